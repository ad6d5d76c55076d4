"""The blog's per-request parts of a stored page (core/page_cache.py): an article's view count."""

from django.utils.html import format_html
from django.utils.translation import ngettext

from blog import view_counts
from blog.models import BlogPageViews, counts_as_view, views_key
from core.page_cache import counted, register_hole


def _counter(params) -> str | None:
    return views_key(params["page_id"]) if params["page_id"] is not None else None


@register_hole("article_views", counter=_counter)
def article_views(request, params) -> str:
    """Counts this visitor's view (not previews, HEAD or editors) and shows the fresh count.

    With Redis, a stored page's read has already added the view (`counted`)."""
    page_id = params["page_id"]
    if page_id is None:  # the preview of an article not saved yet
        views = 0
    elif counts_as_view(request):
        views = view_counts.record(page_id, counted=counted(request, views_key(page_id)))
    else:
        views = BlogPageViews.current(page_id)
    # In Python, not a template: rendered on every request, stored page or not.
    text = ngettext("%(counter)s view", "%(counter)s views", views) % {"counter": views}
    return format_html('<p class="text-muted small" data-testid="views">{}</p>', text)
