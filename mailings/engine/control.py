"""The owner's controls over running mailings: pause, resume, cancel.

Pausing marks the mailing's runs PAUSED: chunks at work notice it between
messages (every MAILINGS_CHECK_SECONDS), let the message on the wire finish,
and give the rest of their claims back. Resuming marks them SENDING again and
enqueues chunks for what is left, so nobody is sent twice and nobody is lost.
Cancelling stops the runs for good: every recipient not yet sent is recorded
as not sent with the reason.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from mailings.engine.pauses import pause_runs, resume_run
from mailings.engine.runs import stop_run
from mailings.engine.schedule import clear_wakeup, refresh_status, reschedule
from mailings.models import ACTIVE_RUN_STATUSES, Mailing, Run, RunStatus


def owner_cancel_reason() -> str:
    return _("Cancelled by the owner.")


def pause_mailing(mailing_id: int) -> int:
    """The owner paused the mailing (Mailing.paused_at is set by the service)."""
    paused = pause_runs(Run.objects.filter(mailing_id=mailing_id), reason=_("Paused by the owner."))
    refresh_status(mailing_id)
    return paused


def resume_mailing(mailing_id: int) -> list[int]:
    """The owner resumed: its paused runs continue; its schedule goes on."""
    now = timezone.now()
    resumed = [
        run_id
        for run_id in Run.objects.filter(mailing_id=mailing_id, status=RunStatus.PAUSED).values_list("pk", flat=True)
        if resume_run(run_id, now=now)
    ]
    if reschedule(mailing_id, start_now=False, now=now):
        async_task("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")
    refresh_status(mailing_id, now=now)
    return resumed


def cancel_mailing(mailing_id: int) -> int:
    """The owner cancelled (Mailing.cancelled_at is set): every run at work or
    paused stops for good; no run starts again."""
    reason = owner_cancel_reason()
    run_ids = list(
        Run.objects.filter(mailing_id=mailing_id, status__in=ACTIVE_RUN_STATUSES).values_list("pk", flat=True)
    )
    for run_id in run_ids:
        stop_run(run_id, reason, status=RunStatus.CANCELLED)
    with transaction.atomic():
        Mailing.objects.filter(pk=mailing_id).update(next_run_at=None)
        clear_wakeup(mailing_id)
    refresh_status(mailing_id)
    return len(run_ids)
