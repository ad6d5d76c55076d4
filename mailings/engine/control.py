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

from mailings import scheduling, sending
from mailings.models import Mailing, Run, RunStatus


def owner_cancel_reason() -> str:
    return _("Cancelled by the owner.")


def pause_mailing(mailing_id: int) -> int:
    """The owner paused the mailing (Mailing.paused_at is set by the service)."""
    paused = sending.pause_runs(Run.objects.filter(mailing_id=mailing_id), reason=_("Paused by the owner."))
    scheduling.refresh_status(mailing_id)
    return paused


def resume_mailing(mailing_id: int) -> list[int]:
    """The owner resumed: its paused runs continue; its schedule goes on."""
    from django_q.tasks import async_task

    now = timezone.now()
    resumed = [
        run_id
        for run_id in Run.objects.filter(mailing_id=mailing_id, status=RunStatus.PAUSED).values_list("pk", flat=True)
        if sending.resume_run(run_id, now=now)
    ]
    if scheduling.reschedule(mailing_id, start_now=False, now=now):
        async_task("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")
    scheduling.refresh_status(mailing_id, now=now)
    return resumed


def cancel_mailing(mailing_id: int) -> int:
    """The owner cancelled (Mailing.cancelled_at is set): every run at work or
    paused stops for good; no run starts again."""
    reason = owner_cancel_reason()
    run_ids = list(Run.objects.filter(mailing_id=mailing_id, status__in=sending.ACTIVE).values_list("pk", flat=True))
    for run_id in run_ids:
        sending.stop_run(run_id, reason, status=RunStatus.CANCELLED)
    with transaction.atomic():
        Mailing.objects.filter(pk=mailing_id).update(next_run_at=None)
        scheduling.clear_wakeup(mailing_id)
    scheduling.refresh_status(mailing_id)
    return len(run_ids)
