"""Sending limits shared by every worker of every cluster: the site-wide rate
(MAILINGS_RATE_PER_SECOND / _PER_HOUR / _PER_DAY) and each customer's daily
quota (User.daily_quota, counted in the customer's time zone).

Each limit is a fixed window counter ("rate:s:<epoch second>" = messages taken
in that second). `take(limits)` is atomic across processes: either every
window has room and each is counted, or nothing is counted and the first full
window is returned, with the time it opens again. With REDIS_URL the counters
are Redis keys updated by one Lua script; without it, rows of RateCounter
updated under row locks in one transaction (SQLite serialises writers).
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from mailings.models import RateCounter
from mailings.timezones import user_time_zone

logger = logging.getLogger(__name__)

RATE = "rate"
QUOTA = "quota"


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    limit: int
    resets_at: datetime
    kind: str = RATE


def _next_midnight(now: datetime, zone) -> datetime:
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


def site_limits(now: datetime | None = None) -> list[Limit]:
    """The configured site-wide windows at `now` (none when nothing is set)."""
    now = now or timezone.now()
    epoch = now.timestamp()
    limits = []
    if settings.MAILINGS_RATE_PER_SECOND:
        second = int(epoch)
        limits.append(
            Limit(f"rate:s:{second}", settings.MAILINGS_RATE_PER_SECOND, datetime.fromtimestamp(second + 1, tz=UTC))
        )
    if settings.MAILINGS_RATE_PER_HOUR:
        hour = int(epoch // 3600)
        limits.append(
            Limit(f"rate:h:{hour}", settings.MAILINGS_RATE_PER_HOUR, datetime.fromtimestamp((hour + 1) * 3600, tz=UTC))
        )
    if settings.MAILINGS_RATE_PER_DAY:
        zone = timezone.get_default_timezone()
        day = now.astimezone(zone).date()
        limits.append(Limit(f"rate:d:{day.isoformat()}", settings.MAILINGS_RATE_PER_DAY, _next_midnight(now, zone)))
    return limits


def quota_key(user_id: int, now: datetime, zone) -> str:
    return f"quota:{user_id}:{now.astimezone(zone).date().isoformat()}"


def quota_limit(owner, now: datetime | None = None) -> Limit | None:
    """The owner's daily quota window, or None when unlimited."""
    if owner.daily_quota is None:
        return None
    now = now or timezone.now()
    zone = user_time_zone(owner)
    return Limit(quota_key(owner.pk, now, zone), owner.daily_quota, _next_midnight(now, zone), QUOTA)


class DatabaseLimiter:
    """Counters in RateCounter rows: the embedded set-up without Redis."""

    def take(self, limits: list[Limit], n: int = 1) -> Limit | None:
        keys = sorted(limit.key for limit in limits)
        with transaction.atomic():
            RateCounter.objects.bulk_create(
                [RateCounter(key=limit.key, count=0, expires_at=limit.resets_at) for limit in limits],
                ignore_conflicts=True,
            )
            # Locked in key order, so two takers never wait on each other in a circle.
            counts = dict(
                RateCounter.objects.select_for_update().filter(key__in=keys).order_by("key").values_list("key", "count")
            )
            for limit in limits:
                if counts.get(limit.key, 0) + n > limit.limit:
                    return limit
            RateCounter.objects.filter(key__in=keys).update(count=F("count") + n)
        return None

    def counts(self, keys: list[str]) -> dict[str, int]:
        found = dict(RateCounter.objects.filter(key__in=keys).values_list("key", "count"))
        return {key: found.get(key, 0) for key in keys}

    def purge(self, now: datetime) -> int:
        return RateCounter.objects.filter(expires_at__lt=now).delete()[0]


# KEYS: the windows; ARGV: n, then (limit, ttl in ms) per key. Returns the
# 1-based index of the first full window, or 0 after counting n in every one.
TAKE_SCRIPT = """
local n = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used + n > tonumber(ARGV[2 * i]) then return i end
end
for i, key in ipairs(KEYS) do
  if redis.call('INCRBY', key, n) == n then redis.call('PEXPIRE', key, ARGV[2 * i + 1]) end
end
return 0
"""


class RedisLimiter:
    """Counters as Redis keys that expire with their window."""

    prefix = "mailsite:limits:"

    def __init__(self, client=None):
        if client is None:
            from django_redis import get_redis_connection

            client = get_redis_connection("default")
        self.client = client
        self.script = client.register_script(TAKE_SCRIPT)

    def take(self, limits: list[Limit], n: int = 1) -> Limit | None:
        now = timezone.now()
        args = [n]
        for limit in limits:
            ttl = int((limit.resets_at - now).total_seconds() * 1000) + 60_000  # a minute of slack
            args += [limit.limit, max(ttl, 1000)]
        index = self.script(keys=[self.prefix + limit.key for limit in limits], args=args)
        return limits[int(index) - 1] if index else None

    def counts(self, keys: list[str]) -> dict[str, int]:
        values = self.client.mget([self.prefix + key for key in keys]) if keys else []
        return {key: int(value or 0) for key, value in zip(keys, values, strict=True)}

    def purge(self, now: datetime) -> int:
        return 0  # keys expire by themselves


def get_limiter():
    return RedisLimiter() if settings.REDIS_URL else DatabaseLimiter()


def _redis_errors():
    from redis.exceptions import RedisError

    return RedisError


def take(limits: list[Limit], n: int = 1, *, limiter=None) -> Limit | None:
    """Count n messages in every window, or return the window that is full.

    An outage of the counter store delays sending (a short wait), never
    ignores the limits."""
    if not limits:
        return None
    limiter = limiter or get_limiter()
    try:
        return limiter.take(limits, n)
    except (_redis_errors(), IntegrityError) as exc:
        logger.warning("sending limits unavailable, waiting: %s", exc)
        return Limit("unavailable", 0, timezone.now() + timedelta(seconds=settings.MAILINGS_CHECK_SECONDS))


def quota_usage(users, now: datetime | None = None, *, limiter=None) -> dict[int, int]:
    """Messages each user's mailings took today (their day), by user id."""
    now = now or timezone.now()
    keys = {user.pk: quota_key(user.pk, now, user_time_zone(user)) for user in users}
    try:
        counts = (limiter or get_limiter()).counts(list(keys.values()))
    except _redis_errors() as exc:
        logger.warning("quota counters unavailable: %s", exc)
        return {}
    return {pk: counts[key] for pk, key in keys.items()}


def purge_expired(now: datetime | None = None) -> int:
    return get_limiter().purge(now or timezone.now())
