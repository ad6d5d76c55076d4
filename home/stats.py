"""The home page's service-wide numbers and their cache.

Computed in two queries and cached under STATS_KEY for STATS_TTL seconds;
`home.signals` deletes the key whenever a mailing, a client or a mailing's
client list changes, or the engine sends `mailings_changed` after a bulk
update. The time limit is only a safety net for writes that send no signal."""

from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower

from mailings.models import Mailing, MailingStatus

STATS_KEY = "home:stats"
STATS_TTL = 5 * 60


@dataclass(frozen=True)
class HomeStats:
    mailings: int
    active_mailings: int
    unique_clients: int


def compute_home_stats() -> HomeStats:
    counts = Mailing.objects.aggregate(
        mailings=Count("id"),
        active_mailings=Count("id", filter=Q(status=MailingStatus.RUNNING, is_active=True)),
    )
    # Distinct addresses across the whole service that at least one mailing names.
    unique_clients = Mailing.clients.through.objects.aggregate(n=Count(Lower("client__email"), distinct=True))["n"]
    return HomeStats(unique_clients=unique_clients, **counts)


def home_stats() -> HomeStats:
    cached = cache.get(STATS_KEY)
    if cached is None:
        stats = compute_home_stats()
        cache.set(STATS_KEY, asdict(stats), STATS_TTL)
        return stats
    return HomeStats(**cached)


def _drop_stats() -> None:
    cache.delete(STATS_KEY)


def invalidate_home_stats() -> None:
    _drop_stats()
    # Again after commit: a request that refilled the cache in between saw the old rows.
    # Once per transaction, however many rows an import saves in it.
    connection = transaction.get_connection()
    if not any(func is _drop_stats for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_drop_stats, robust=True)
