"""The owner's controls over running mailings, and the pauses the daily
quota makes: pause, resume, cancel.

Pausing marks the mailing's runs PAUSED: chunks at work notice it between
messages (every MAILINGS_CHECK_SECONDS), let the message on the wire finish,
and give the rest of their claims back. Resuming marks them SENDING again and
enqueues chunks for what is left, so nobody is sent twice and nobody is lost.
Cancelling stops the runs for good: every recipient not yet sent is recorded
as not sent with the reason.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailings import scheduling, sending
from mailings.models import Delivery, Mailing, Run, RunStatus

AT_WORK = (RunStatus.PENDING, RunStatus.SENDING, RunStatus.DEFERRED)


def owner_cancel_reason() -> str:
    return _("Cancelled by the owner.")


def pause_runs(mailing_id: int, *, reason: str, until: datetime | None = None) -> int:
    """Pause the mailing's runs at work; `until`: they resume by themselves then."""
    return Run.objects.filter(mailing_id=mailing_id, status__in=AT_WORK).update(
        status=RunStatus.PAUSED, paused_until=until, pause_reason=reason, waiting_until=None
    )


def resume_run(run_id: int, *, now: datetime | None = None) -> bool:
    """A paused run sends again from where it stopped."""
    now = now or timezone.now()
    if not Run.objects.filter(pk=run_id, status=RunStatus.PAUSED).update(
        status=RunStatus.SENDING, paused_until=None, pause_reason="", heartbeat_at=now
    ):
        return False
    left = Delivery.objects.filter(run_id=run_id).filter(sending.claimable(now)).count()
    if left:
        sending.enqueue_chunks(run_id, left)
    else:
        sending.finalize_run(run_id)
    return True


def pause_mailing(mailing_id: int) -> int:
    """The owner paused the mailing (Mailing.paused_at is set by the service)."""
    paused = pause_runs(mailing_id, reason=_("Paused by the owner."))
    scheduling.refresh_status(mailing_id)
    return paused


def resume_mailing(mailing_id: int) -> list[int]:
    """The owner resumed: its paused runs continue; its schedule goes on."""
    from django_q.tasks import async_task

    now = timezone.now()
    resumed = [
        run_id
        for run_id in Run.objects.filter(mailing_id=mailing_id, status=RunStatus.PAUSED).values_list("pk", flat=True)
        if resume_run(run_id, now=now)
    ]
    if scheduling.reschedule(mailing_id, start_now=False, now=now):
        async_task("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")
    scheduling.refresh_status(mailing_id, now=now)
    return resumed


def cancel_mailing(mailing_id: int) -> int:
    """The owner cancelled (Mailing.cancelled_at is set): every run at work or
    paused stops for good; no run starts again."""
    reason = owner_cancel_reason()
    run_ids = list(
        Run.objects.filter(mailing_id=mailing_id, status__in=(*AT_WORK, RunStatus.PAUSED)).values_list("pk", flat=True)
    )
    for run_id in run_ids:
        sending.stop_run(run_id, reason, status=RunStatus.CANCELLED)
    with transaction.atomic():
        Mailing.objects.filter(pk=mailing_id).update(next_run_at=None)
        scheduling.clear_wakeup(mailing_id)
    scheduling.refresh_status(mailing_id)
    return len(run_ids)


def resume_due_pauses(*, now: datetime | None = None) -> list[int]:
    """The dispatcher: runs paused by the quota whose day has come continue
    (unless their owner paused the mailing meanwhile)."""
    now = now or timezone.now()
    due = Run.objects.filter(status=RunStatus.PAUSED, paused_until__lte=now, mailing__paused_at__isnull=True)
    return [run_id for run_id in due.values_list("pk", flat=True) if resume_run(run_id, now=now)]
