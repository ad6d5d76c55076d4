"""What starts and stops runs: the minute dispatcher, a mailing's wake-up, and
a change to a mailing or its owner (the services call these after their
commit). The dispatcher also runs the sweeper, so a lost broker message or a
killed cluster never loses a recipient."""

import logging
from datetime import datetime

from django.utils import timezone

from mailings.engine.runs import start_due_run, stop_runs_if_not_runnable
from mailings.engine.schedule import complete_ended, due_mailings, reschedule
from mailings.engine.sweeper import resume_deferred, revive_stalled, settle_stale_claims
from mailings.engine.wakeup import enqueue
from mailings.models import Mailing, MailingStatus, Run

logger = logging.getLogger(__name__)


def dispatch_due(*, now: datetime | None = None) -> dict:
    """The minute dispatcher: start due mailings, revive deferred and stalled
    runs, settle stale claims, complete ended mailings."""
    now = now or timezone.now()
    started = []
    for mailing_id in due_mailings(now).values_list("pk", flat=True).order_by("next_run_at"):
        run = start_due_run(mailing_id, now=now)
        if run is not None:
            started.append(run.pk)
    summary = {
        "started": started,
        "settled": settle_stale_claims(now=now),
        "resumed": resume_deferred(now=now),
        "revived": revive_stalled(now=now),
        "completed": complete_ended(now=now),
    }
    if any(summary.values()):
        logger.info("Dispatcher: %s", summary)
    return summary


def dispatch_mailing(mailing_id: int, *, now: datetime | None = None) -> Run | None:
    """Start one mailing's run if it is due (its wake-up, or a change)."""
    return start_due_run(mailing_id, now=now)


def replan_mailing(mailing) -> None:
    """A mailing was created, edited, enabled or disabled: recompute its
    schedule; stop its runs if it may no longer send; start a run at once
    (on django-q2) if it is due now."""
    _replan(mailing.pk if isinstance(mailing, Mailing) else int(mailing), start_now=True)


def replan_owner_mailings(user) -> None:
    """A user was blocked or unblocked: stop or resume their mailings."""
    for mailing_id in (
        Mailing.objects.filter(owner=user).exclude(status=MailingStatus.COMPLETED).values_list("pk", flat=True)
    ):
        _replan(mailing_id, start_now=False)


def _replan(mailing_id: int, *, start_now: bool) -> None:
    stop_runs_if_not_runnable(mailing_id)
    if reschedule(mailing_id, start_now=start_now):
        enqueue("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")
