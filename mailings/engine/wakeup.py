"""Waking the workers through the broker, which may be down.

What must happen is in the database before the broker hears of it (a run's
deliveries, a mailing's next_run_at, an account email in its outbox), and
the minute schedules pick it up from there. So a broker outage makes a
wake-up late, never an error for the request that caused it."""

import logging

from django_q.tasks import async_task
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Redis refusing, timing out or gone (redis-py wraps socket errors in RedisError).
BROKER_ERRORS = (RedisError, OSError)


def enqueue(func: str, *args, **kwargs) -> str | None:
    """django-q2's async_task, or None (logged) when the broker cannot be reached."""
    try:
        return async_task(func, *args, **kwargs)
    except BROKER_ERRORS:
        logger.warning("The task broker is unreachable: %s waits for the minute schedule", func, exc_info=True)
        return None
