from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.panels import HelpPanel


class ViewCountPanel(HelpPanel):
    """Shows an article's view count in the editor, read-only: it is not a form field.

    It asks the page (`view_count()`), so the panel imports no model."""

    def __init__(self, **kwargs):
        kwargs.setdefault("heading", _("Views"))
        super().__init__(**kwargs)

    class BoundPanel(HelpPanel.BoundPanel):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            views = self.instance.view_count()
            self.content = format_html(
                '<p data-testid="editor-views">{}</p>',
                ngettext("%(count)d view by visitors", "%(count)d views by visitors", views) % {"count": views},
            )
