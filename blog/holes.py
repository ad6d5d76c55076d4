"""The blog's per-request parts of a stored page (core/page_cache.py): an article's view count."""

from django.template.loader import render_to_string

from blog.models import BlogPageViews, counts_as_view
from core.page_cache import register_hole


@register_hole("article_views")
def article_views(request, params) -> str:
    """Counts this visitor's view (not previews, HEAD or editors) and shows the fresh count."""
    page_id = params["page_id"]
    if page_id is None:  # the preview of an article not saved yet
        views = 0
    elif counts_as_view(request):
        views = BlogPageViews.record(page_id)
    else:
        views = BlogPageViews.count_for(page_id)
    return render_to_string("blog/includes/views.html", {"views": views})
