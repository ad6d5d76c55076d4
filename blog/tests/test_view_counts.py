"""View counts kept in Redis (blog/view_counts.py): exact, copied to the
database by the flush, and never going backwards when Redis loses its totals
or cannot be reached. Real Redis: run by .ci/run's second stage."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule
from redis.client import Pipeline, Redis

from blog import view_counts
from blog.models import BlogPageViews
from blog.tasks import flush_view_counts
from blog.tests.fixtures import publish_article
from core.testing.smtp import free_port

pytestmark = [pytest.mark.service, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _redis_cache():
    assert "django_redis" in settings.CACHES["default"]["BACKEND"], "set REDIS_URL (.ci/run does)"


def shown_views(client, url) -> int:
    return int(re.search(r'data-testid="views">(\d+) view', client.get(url).content.decode()).group(1))


def stored_views(article) -> int:
    return BlogPageViews.objects.filter(page=article).values_list("views", flat=True).first() or 0


def test_views_are_counted_in_redis_and_flushed_to_the_database(client, blog_index):
    article = publish_article(blog_index)
    assert [shown_views(client, article.url) for _ in range(3)] == [1, 2, 3]
    assert stored_views(article) == 0  # not yet: the flush copies them
    assert flush_view_counts() == 1
    assert stored_views(article) == 3
    assert flush_view_counts() == 0  # nothing new
    assert shown_views(client, article.url) == 4
    assert Schedule.objects.get(func="blog.tasks.flush_view_counts").minutes == 1


def test_a_stored_article_is_one_round_trip_to_redis_and_no_sql(client, blog_index, monkeypatch):
    article = publish_article(blog_index)
    for _ in range(2):
        client.get(article.url)  # stored, then held by this process
    trips = []

    def spy(method, name):
        def wrapped(self, *args, **kwargs):
            trips.append(name)
            return method(self, *args, **kwargs)

        return wrapped

    monkeypatch.setattr(Redis, "execute_command", spy(Redis.execute_command, "command"))
    monkeypatch.setattr(Pipeline, "execute", spy(Pipeline.execute, "pipeline"))
    with CaptureQueriesContext(connection) as sql:
        assert shown_views(client, article.url) == 3
    assert trips == ["pipeline"]  # the page's values and the INCR together
    assert sql.captured_queries == []


def test_a_total_lost_by_redis_starts_again_from_the_database(client, blog_index):
    article = publish_article(blog_index)
    for _ in range(5):
        client.get(article.url)
    view_counts.flush()
    client.get(article.url)  # the sixth view, not flushed
    cache.delete(f"blog:views:{article.pk}")  # Redis restarted
    assert shown_views(client, article.url) == 6  # the five of record and this one
    view_counts.flush()
    assert stored_views(article) == 6


def test_views_counted_while_redis_was_down_are_kept(client, settings, blog_index):
    article = publish_article(blog_index)
    for _ in range(2):
        client.get(article.url)
    view_counts.flush()
    client.get(article.url)  # a third view, in Redis only
    reachable = settings.CACHES
    settings.CACHES = {"default": {**reachable["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    # Counted in the database: the two of record, and these.
    assert [shown_views(client, article.url) for _ in range(2)] == [3, 4]
    assert view_counts.flush() == 0  # nothing to do while Redis is down

    settings.CACHES = reachable  # back, with its total of 3
    assert shown_views(client, article.url) == 4  # 3 + this one; the 2 in the database wait for the flush
    assert BlogPageViews.current(article.pk) == 6
    assert view_counts.flush() == 1
    assert (stored_views(article), BlogPageViews.objects.get(page=article).unsynced) == (6, 0)
    assert shown_views(client, article.url) == 7
    view_counts.flush()
    assert stored_views(article) == 7


def test_a_redis_restart_during_an_outage_counts_each_view_once(client, settings, blog_index):
    article = publish_article(blog_index)
    client.get(article.url)
    view_counts.flush()
    reachable = settings.CACHES
    settings.CACHES = {"default": {**reachable["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    client.get(article.url)  # in the database
    settings.CACHES = reachable
    cache.delete(f"blog:views:{article.pk}")  # Redis came back empty
    assert shown_views(client, article.url) == 2  # starts from 1 of record; the unsynced one follows
    view_counts.flush()
    assert stored_views(article) == 3
    assert shown_views(client, article.url) == 4
