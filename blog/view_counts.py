"""Counting an article's views: exact, shown at once, and off the database's
path when the cache is Redis.

With Redis (production), Redis keeps each article's running total
(`blog:views:<id>`): a view is one atomic INCR, whose result is the count the
page shows. `flush()` (the task `blog.tasks.flush_view_counts`, every minute)
copies the totals to `BlogPageViews.views`, the count of record. A total that
Redis does not have (the first view, or Redis restarted and lost it) starts
from the database's, so a restart of Redis loses at most the views since the
last flush.

While Redis is unreachable, a view is counted in the database instead
(`BlogPageViews.record(unsynced=True)`), which also notes it in `unsynced`;
the next flush adds those to Redis's total before copying, so no view is lost
or counted twice.

With the database cache (development, tests), a view is one UPDATE ... RETURNING."""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from blog.models import BlogPage, BlogPageViews


def _key(page_id: int) -> str:
    return f"blog:views:{page_id}"


def _in_redis() -> bool:
    return "django_redis" in settings.CACHES["default"]["BACKEND"]


def _of_record(page_id: int) -> tuple[int, int]:
    row = BlogPageViews.objects.filter(page_id=page_id).values_list("views", "unsynced").first()
    return row or (0, 0)


def _add_to_total(page_id: int, amount: int, start: Callable[[], int]) -> int | None:
    """Add `amount` to the article's total in Redis, or start the total at `start()` when
    Redis has none; the new total, or None when Redis is unreachable."""
    key = _key(page_id)
    for _attempt in range(2):
        try:
            return cache.incr(key, amount)  # None: unreachable
        except ValueError:  # Redis has no total for it
            total = start()
            if cache.add(key, total, None):
                return total
    return None


def record(page_id: int) -> int:
    """Count one view of the article; its new total."""
    if not _in_redis():
        return BlogPageViews.record(page_id)

    def start() -> int:
        views, unsynced = _of_record(page_id)
        return views - unsynced + 1  # the flush adds `unsynced`

    total = _add_to_total(page_id, 1, start)
    return total if total is not None else BlogPageViews.record(page_id, unsynced=True)


def current(page_id: int) -> int:
    """The article's total, without counting a view."""
    views, unsynced = _of_record(page_id)
    total = cache.get(_key(page_id)) if _in_redis() else None
    return views if total is None else max(views, total + unsynced)


def flush() -> int:
    """Add to Redis the views counted in the database while it was unreachable, then
    copy Redis's totals to the database; the number of articles whose count changed."""
    if not _in_redis():
        return 0
    for page_id in BlogPageViews.objects.filter(unsynced__gt=0).values_list("page_id", flat=True):
        with transaction.atomic():
            row = BlogPageViews.objects.select_for_update().get(page_id=page_id)
            # No total in Redis: it starts from `views`, which holds these.
            if _add_to_total(page_id, row.unsynced, lambda row=row: row.views) is None:
                return 0  # unreachable again: the next flush
            row.unsynced = 0
            row.save(update_fields=["unsynced"])
    found = cache.get_many([_key(page_id) for page_id in BlogPage.objects.values_list("pk", flat=True)])
    totals = {int(key.rsplit(":", 1)[1]): total for key, total in found.items()}
    stored = dict(BlogPageViews.objects.filter(page_id__in=totals).values_list("page_id", "views"))
    BlogPageViews.objects.bulk_create(
        [BlogPageViews(page_id=page_id) for page_id in totals if page_id not in stored], ignore_conflicts=True
    )
    written = 0
    for page_id, total in totals.items():
        if total > stored.get(page_id, 0):
            # Never lower the count: a view may be counted in the database meanwhile.
            written += BlogPageViews.objects.filter(page_id=page_id, views__lt=total).update(views=total)
    return written
