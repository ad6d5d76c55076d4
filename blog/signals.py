"""Keep the blog's caches right: any publish, unpublish, move or delete of an
article (or a change of who may see it) drops the cached list of published
articles and changes the version token in the blog index's fragment keys."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from blog.article_cache import invalidate_published_articles
from blog.models import BlogIndexPage, BlogPage


def _invalidate(**kwargs):
    invalidate_published_articles()
    # Again after commit: a request that refilled the cache in between saw the old rows.
    transaction.on_commit(invalidate_published_articles, robust=True)


for _model in (BlogPage, BlogIndexPage):
    page_published.connect(_invalidate, sender=_model, dispatch_uid=f"blog-published-{_model.__name__}")
    page_unpublished.connect(_invalidate, sender=_model, dispatch_uid=f"blog-unpublished-{_model.__name__}")
    post_delete.connect(_invalidate, sender=_model, dispatch_uid=f"blog-deleted-{_model.__name__}")
post_page_move.connect(_invalidate, dispatch_uid="blog-moved")
post_save.connect(_invalidate, sender=PageViewRestriction, dispatch_uid="blog-restriction-saved")


# The cached list carries a stamp of each card's image (blog.cards).
@receiver(post_save, sender=get_image_model(), dispatch_uid="blog-image-saved")
def _image_saved(sender, update_fields=None, **kwargs):
    if update_fields != frozenset({"file_hash"}):  # Wagtail filling in the hash changes no rendition
        _invalidate()


post_delete.connect(_invalidate, sender=PageViewRestriction, dispatch_uid="blog-restriction-deleted")


@receiver(post_delete, sender=Page, dispatch_uid="blog-page-deleted")
def _page_deleted(sender, instance, **kwargs):
    # Deleting a subtree deletes the base Page rows; react if it held articles.
    if ContentType.objects.get_for_id(instance.content_type_id).model_class() in (BlogPage, BlogIndexPage):
        _invalidate()
