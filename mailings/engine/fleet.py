"""The fleet: the workers of every cluster on this broker, as django-q2's
cluster stats tell (each cluster refreshes its stat every guard cycle; it
expires 3 s after the cluster dies), and how many chunk tasks a run keeps in
flight.

A run does not put all its chunks on the broker at once: a cluster's pusher
takes tasks off the broker ahead of its workers, so a cluster that starts
first (or whose pusher is quicker) would hold most of them, and one that
joins later would find none. A run keeps about one chunk task per live worker
in flight instead; each chunk passes the baton on when it ends (relay), and
the sweeper feeds workers that sit idle while runs have work (a cluster that
joined, the tasks a killed cluster took with it)."""

from django.conf import settings
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.status import Stat

from mailings.engine.wakeup import BROKER_ERRORS

UP = (Conf.IDLE, Conf.WORKING, Conf.STARTING)


def inline() -> bool:
    """Tasks run in the caller (Q_SYNC): enqueue runs the chunk at once, so no relay."""
    return bool(Conf.SYNC)


def live_workers() -> int:
    """Workers of the clusters that reported in the last seconds (0 if unknown)."""
    try:
        stats = Stat.get_all()
    except BROKER_ERRORS:
        return 0
    return sum(len(stat.workers) for stat in stats if stat.status in UP)


def queued() -> int | None:
    """Tasks waiting on the broker, not yet taken by any cluster (None if unknown)."""
    try:
        return get_broker().queue_size()
    except BROKER_ERRORS:
        return None


def fan_out() -> int:
    """Chunk tasks a run starts with: one per live worker and one to spare
    (MAILINGS_FAN_OUT while no cluster reports its workers)."""
    workers = live_workers()
    return workers + 1 if workers else settings.MAILINGS_FAN_OUT
