from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.panels import HelpPanel


class ViewCountPanel(HelpPanel):
    """Shows an article's view count in the editor, read-only: it is not a form field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("heading", _("Views"))
        super().__init__(**kwargs)

    class BoundPanel(HelpPanel.BoundPanel):
        def __init__(self, **kwargs):
            from blog.models import BlogPageViews

            super().__init__(**kwargs)
            views = BlogPageViews.count_for(self.instance) if self.instance.pk else 0
            self.content = format_html(
                '<p data-testid="editor-views">{}</p>',
                ngettext("%(count)d view by visitors", "%(count)d views by visitors", views) % {"count": views},
            )
