"""Counting an article's views: exact, shown at once, and off the database's
path when the cache is Redis.

With Redis (production), Redis keeps each article's running total
(`blog:views:<id>`): a view is one atomic INCR, whose result is the count the
page shows; for a stored page, that INCR goes in the same round trip as the
page's own read (core/page_cache.py, `counter=`). `flush()` (the task
`blog.tasks.flush_view_counts`, every minute) copies the totals to
`BlogPageViews.views`, the count of record. A total that Redis does not have
(the first view, or Redis restarted and lost it) is made by the INCR and then
given the database's count, so a restart of Redis loses at most the views
since the last flush.

While Redis is unreachable, a view is counted in the database instead
(`BlogPageViews.record(unsynced=True)`), which also notes it in `unsynced`;
the next flush adds those to Redis's total before copying, so no view is lost
or counted twice.

With the database cache (development, tests), a view is one UPDATE ... RETURNING."""

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

from blog.models import BlogPage, BlogPageViews, views_in_redis, views_key


def _started(page_id: int, total: int | None, amount: int, base: Callable[[], int]) -> int | None:
    """`total`, the article's total in Redis after an INCRBY of `amount`. An INCRBY on a
    missing total starts it at 0, so a total equal to `amount` was just made (a total is
    never 0): it gets the database's count, `base()`, added. A total always starts from the record."""
    if total != amount:
        return total
    extra = base()
    if extra <= 0:
        return total
    grown = cache.incr(views_key(page_id), extra, ignore_key_check=True)
    # Redis went away in between: the flush raises its total to the record's.
    return grown if grown is not None else total + extra


def record(page_id: int, *, counted: int | None = None) -> int:
    """Count one view of the article; its new total. `counted`: the total after the
    page cache's read already added this view in Redis (core.page_cache.counted)."""
    if not views_in_redis():
        return BlogPageViews.record(page_id)
    if counted is None:
        counted = cache.incr(views_key(page_id), ignore_key_check=True)  # None: Redis is unreachable

    def base() -> int:
        views, unsynced = BlogPageViews.of_record(page_id)
        return views - unsynced  # the flush adds `unsynced`

    total = _started(page_id, counted, 1, base)
    return total if total is not None else BlogPageViews.record(page_id, unsynced=True)


def flush() -> int:
    """Add to Redis the views counted in the database while it was unreachable, then
    copy Redis's totals to the database; the number of articles whose count changed."""
    if not views_in_redis():
        return 0
    for page_id in BlogPageViews.objects.filter(unsynced__gt=0).values_list("page_id", flat=True):
        with transaction.atomic():
            row = BlogPageViews.objects.select_for_update().get(page_id=page_id)
            total = cache.incr(views_key(page_id), row.unsynced, ignore_key_check=True)
            if _started(page_id, total, row.unsynced, lambda row=row: row.views - row.unsynced) is None:
                return 0  # unreachable again: the next flush
            row.unsynced = 0
            row.save(update_fields=["unsynced"])
    found = cache.get_many([views_key(page_id) for page_id in BlogPage.objects.values_list("pk", flat=True)])
    totals = {int(name.rsplit(":", 1)[1]): total for name, total in found.items()}
    stored = {
        page_id: (views, unsynced)
        for page_id, views, unsynced in BlogPageViews.objects.filter(page_id__in=totals).values_list(
            "page_id", "views", "unsynced"
        )
    }
    BlogPageViews.objects.bulk_create(
        [BlogPageViews(page_id=page_id) for page_id in totals if page_id not in stored], ignore_conflicts=True
    )
    written = 0
    for page_id, total in totals.items():
        views, unsynced = stored.get(page_id, (0, 0))
        if total > views:
            # Never lower the count: a view may be counted in the database meanwhile.
            written += BlogPageViews.objects.filter(page_id=page_id, views__lt=total).update(views=total)
        elif total < views - unsynced:  # a total started while Redis went away: raise it to the record
            cache.incr(views_key(page_id), views - unsynced - total, ignore_key_check=True)
    return written
