"""The shared limiter (engine.limits) against both stores: rows of
RateCounter in the database, and Redis (a service test: it needs REDIS_URL).

Atomicity is shown with real concurrency: threads with their own database
connections (or Redis clients) race for the same window, and exactly `limit`
takes succeed."""

import os
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from mailings import engine
from mailings.models import RateCounter

NOW = datetime(2026, 3, 10, 12, 30, 15, 400000, tzinfo=UTC)


def window(key="rate:s:1", limit=3, seconds=1, now=NOW):
    return engine.Limit(key, limit, now + timedelta(seconds=seconds))


def race(limiter_factory, limit, threads=6, tries=20):
    granted = []
    barrier = threading.Barrier(threads)

    def worker():
        limiter = limiter_factory()
        barrier.wait()
        mine = 0
        for _ in range(tries):
            if limiter.take([window("rate:s:race", limit, seconds=60, now=datetime.now(tz=UTC))]) is None:
                mine += 1
        granted.append(mine)
        connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(granted)


def test_site_limits_follow_the_settings(settings):
    settings.MAILINGS_RATE_PER_SECOND = None
    settings.MAILINGS_RATE_PER_HOUR = None
    settings.MAILINGS_RATE_PER_DAY = None
    assert engine.site_limits(NOW) == []
    settings.MAILINGS_RATE_PER_SECOND = 20
    settings.MAILINGS_RATE_PER_HOUR = 1000
    settings.MAILINGS_RATE_PER_DAY = 5000
    settings.TIME_ZONE = "Europe/Moscow"
    second, hour, day = engine.site_limits(NOW)
    assert (second.limit, second.resets_at) == (20, datetime(2026, 3, 10, 12, 30, 16, tzinfo=UTC))
    assert (hour.limit, hour.resets_at) == (1000, datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    # The day is the site's: midnight in Moscow is 21:00 UTC.
    assert day.key == "rate:d:2026-03-10"
    assert day.resets_at == datetime(2026, 3, 10, 21, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_quota_window_is_the_owners_day(settings):
    settings.TIME_ZONE = "Asia/Vladivostok"
    owner = UserFactory(daily_quota=100)
    limit = engine.quota_limit(owner, NOW)
    assert limit.kind == engine.QUOTA
    assert limit.key == f"quota:{owner.pk}:2026-03-10"
    assert limit.resets_at == datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("Asia/Vladivostok")) + timedelta(days=1)
    owner.daily_quota = None
    assert engine.quota_limit(owner, NOW) is None


@pytest.mark.django_db
def test_new_users_get_the_default_quota(settings):
    settings.MAILINGS_DAILY_QUOTA = 250
    assert UserFactory().daily_quota == 250
    settings.MAILINGS_DAILY_QUOTA = None
    assert UserFactory().daily_quota is None


@pytest.mark.django_db
def test_database_limiter_counts_until_full_and_names_the_full_window():
    limiter = engine.DatabaseLimiter()
    wide, narrow = window("rate:h:1", 10, 3600), window("rate:s:1", 3)
    assert [limiter.take([wide, narrow]) for _ in range(3)] == [None, None, None]
    assert limiter.take([wide, narrow]) == narrow
    # A refused take counts nowhere.
    assert limiter.counts(["rate:h:1", "rate:s:1", "rate:x"]) == {"rate:h:1": 3, "rate:s:1": 3, "rate:x": 0}
    assert limiter.take([wide, window("rate:s:2", 3)], n=3) is None
    assert limiter.take([wide, window("rate:s:3", 3)], n=5) == wide


@pytest.mark.django_db
def test_database_limiter_purges_past_windows():
    limiter = engine.DatabaseLimiter()
    limiter.take([window("rate:s:old", 3, seconds=1)])
    limiter.take([window("rate:s:new", 3, seconds=100)])
    assert limiter.purge(NOW + timedelta(seconds=10)) == 1
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["rate:s:new"]


@pytest.mark.service
# serialized_rollback: like every transactional test here, it leaves the migrated data behind.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_limiter_is_atomic_across_connections():
    # SQLite's shared in-memory test database locks whole tables; the real race is on PostgreSQL.
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://...")
    assert race(engine.DatabaseLimiter, limit=37) == 37


@pytest.mark.django_db
def test_take_without_limits_touches_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert engine.take_limits([]) is None


@pytest.fixture
def redis_limiter():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("this test needs Redis: set REDIS_URL=redis://...")
    import redis

    def make():
        limiter = engine.RedisLimiter(redis.Redis.from_url(url))
        limiter.prefix = "mailsite:test-limits:"
        return limiter

    limiter = make()
    for key in limiter.client.scan_iter(limiter.prefix + "*"):
        limiter.client.delete(key)
    yield make
    for key in limiter.client.scan_iter(limiter.prefix + "*"):
        limiter.client.delete(key)


@pytest.mark.service
def test_redis_limiter_counts_until_full_and_expires_with_the_window(redis_limiter):
    limiter = redis_limiter()
    now = datetime.now(tz=UTC)
    wide, narrow = window("rate:h:1", 10, 3600, now), window("rate:s:1", 3, 1, now)
    assert [limiter.take([wide, narrow]) for _ in range(3)] == [None, None, None]
    assert limiter.take([wide, narrow]) == narrow
    assert limiter.counts(["rate:h:1", "rate:s:1", "rate:x"]) == {"rate:h:1": 3, "rate:s:1": 3, "rate:x": 0}
    ttl = limiter.client.pttl(limiter.prefix + "rate:s:1")
    assert 0 < ttl <= 61_000


@pytest.mark.service
def test_redis_limiter_is_atomic_across_clients(redis_limiter):
    assert race(redis_limiter, limit=37) == 37


@pytest.mark.django_db
def test_quota_usage_reads_todays_counters(settings):
    owner, other = UserFactory(daily_quota=5), UserFactory(daily_quota=None)
    limiter = engine.DatabaseLimiter()
    limiter.take([engine.quota_limit(owner)], n=4)
    assert engine.quota_usage([owner, other], limiter=limiter) == {owner.pk: 4, other.pk: 0}
