"""Replace the page version (core/page_cache.py) whenever a public page may change:
a page published, unpublished (also by the scheduler), moved or deleted; a view
restriction, a site or a locale changed; an image changed (its renditions are in
the stored HTML)."""

from django.db.models.signals import post_delete, post_save
from wagtail.images import get_image_model
from wagtail.models import Locale, Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from core.page_cache import invalidate_pages


def _changed(**kwargs):
    if kwargs.get("update_fields") == frozenset({"file_hash"}):
        return  # Wagtail filling in an image's hash: nothing shown changes
    invalidate_pages()


def _page_deleted(sender, **kwargs):
    if issubclass(sender, Page):
        invalidate_pages()


def connect() -> None:
    page_published.connect(_changed, dispatch_uid="page-cache-published")
    page_unpublished.connect(_changed, dispatch_uid="page-cache-unpublished")
    post_page_move.connect(_changed, dispatch_uid="page-cache-moved")
    post_delete.connect(_page_deleted, dispatch_uid="page-cache-page-deleted")
    for model in (PageViewRestriction, Site, Locale, get_image_model()):
        post_save.connect(_changed, sender=model, dispatch_uid=f"page-cache-saved-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"page-cache-deleted-{model.__name__}")
