"""Pausing and resuming runs: by their owner (engine.control), by the daily
quota (until the owner's next day) and, for the dispatcher, the quota pauses
whose day has come.

A paused run keeps its recipients: its chunks give their claims back, and
resuming enqueues chunks for what is left, so nobody is sent twice.
"""

from datetime import datetime

from django.utils import timezone

from mailings.engine.claims import claimable
from mailings.engine.runs import enqueue_chunks, finalize_run
from mailings.models import Delivery, Run, RunStatus

AT_WORK = (RunStatus.PENDING, RunStatus.SENDING, RunStatus.DEFERRED)


def pause_runs(runs, *, reason: str, until: datetime | None = None) -> int:
    """Pause those of `runs` at work; with `until` they resume by themselves then."""
    return runs.filter(status__in=AT_WORK).update(
        status=RunStatus.PAUSED, paused_until=until, pause_reason=reason, waiting_until=None
    )


def resume_run(run_id: int, *, now: datetime | None = None) -> bool:
    """A paused run sends again from where it stopped."""
    now = now or timezone.now()
    if not Run.objects.filter(pk=run_id, status=RunStatus.PAUSED).update(
        status=RunStatus.SENDING, paused_until=None, pause_reason="", heartbeat_at=now
    ):
        return False
    left = Delivery.objects.filter(run_id=run_id).filter(claimable(now)).count()
    if left:
        enqueue_chunks(run_id, left)
    else:
        finalize_run(run_id)
    return True


def resume_due_pauses(*, now: datetime | None = None) -> list[int]:
    """The dispatcher: runs paused by the quota whose day has come continue
    (unless their owner paused the mailing meanwhile)."""
    now = now or timezone.now()
    due = Run.objects.filter(status=RunStatus.PAUSED, paused_until__lte=now, mailing__paused_at__isnull=True)
    return [run_id for run_id in due.values_list("pk", flat=True) if resume_run(run_id, now=now)]
