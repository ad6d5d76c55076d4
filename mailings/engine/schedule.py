"""When mailings are due: `next_run_at`, the status, and the wake-ups.

The database is the source of truth: `Mailing.next_run_at` says when a mailing
is next due; the django-q2 schedules are only alarm clocks that wake the
dispatcher (`dispatch.dispatch_mailing`). The slots themselves are in slots.py.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule

from mailings.engine.slots import latest_slot, next_slot_after
from mailings.models import ACTIVE_RUN_STATUSES, Mailing, MailingStatus, Periodicity, Run, RunStatus
from mailings.signals import mailings_changed

DISPATCH_SCHEDULE = "mailings.dispatch_due"


# --- status -------------------------------------------------------------------------


def is_runnable(mailing: Mailing) -> bool:
    """A disabled mailing or a blocked owner's mailing starts nothing."""
    return mailing.is_active and not mailing.owner.is_blocked


def compute_status(mailing: Mailing, *, now: datetime, has_active_run: bool, has_runs: bool, once_done: bool) -> str:
    """The one place deciding a mailing's status from the facts.

    created: nothing started yet; running: started and not completed;
    completed: a one-off mailing's run finished, or the end time passed (and
    no run is still at work)."""
    if has_active_run:
        return MailingStatus.RUNNING
    if (mailing.periodicity == Periodicity.ONCE and once_done) or now >= mailing.end_at:
        return MailingStatus.COMPLETED
    return MailingStatus.RUNNING if has_runs else MailingStatus.CREATED


def refresh_status(mailing_id: int, *, now: datetime | None = None) -> str | None:
    """Recompute and store a mailing's status; returns it (None if gone)."""
    now = now or timezone.now()
    mailing = Mailing.objects.select_related("owner").filter(pk=mailing_id).first()
    if mailing is None:
        return None
    runs = Run.objects.filter(mailing_id=mailing_id)
    status = compute_status(
        mailing,
        now=now,
        has_active_run=runs.filter(status__in=ACTIVE_RUN_STATUSES).exists(),
        has_runs=runs.exists(),
        once_done=runs.filter(status=RunStatus.FINISHED).exists(),
    )
    updates = {"status": status}
    if status == MailingStatus.COMPLETED:
        updates["next_run_at"] = None
    if status != mailing.status or (status == MailingStatus.COMPLETED and mailing.next_run_at):
        Mailing.objects.filter(pk=mailing_id).update(**updates)
        mailings_changed.send(sender=Mailing, pks=[mailing_id])
    if status == MailingStatus.COMPLETED:
        clear_wakeup(mailing_id)
    return status


def complete_ended(*, now: datetime | None = None) -> int:
    """Periodic mailings past their end with nothing at work become completed."""
    now = now or timezone.now()
    ids = list(
        Mailing.objects.filter(end_at__lte=now)
        .exclude(status=MailingStatus.COMPLETED)
        .exclude(runs__status__in=ACTIVE_RUN_STATUSES)
        .values_list("pk", flat=True)
        .distinct()
    )
    for pk in ids:
        refresh_status(pk, now=now)
    return len(ids)


# --- the alarm clock in django-q2 --------------------------------------------------------


def wakeup_name(mailing_id: int) -> str:
    return f"mailings.mailing-{mailing_id}"


def set_wakeup(mailing_id: int, when: datetime | None) -> None:
    """One django-q2 ONCE schedule per mailing at its next_run_at, so a future
    start begins within the scheduler's 30-second tick (the minute dispatcher
    is the safety net). Visible in django-q2's admin pages."""
    name = wakeup_name(mailing_id)
    if when is None:
        Schedule.objects.filter(name=name).delete()
        return
    updated = Schedule.objects.filter(name=name).update(next_run=when, repeats=-1)
    if not updated:
        Schedule.objects.create(
            name=name,
            func="mailings.tasks.dispatch_mailing",
            args=repr((mailing_id,)),
            schedule_type=Schedule.ONCE,
            repeats=-1,
            next_run=when,
        )


def clear_wakeup(mailing_id: int) -> None:
    Schedule.objects.filter(name=wakeup_name(mailing_id)).delete()


def ensure_dispatch_schedule() -> Schedule:
    """The recurring dispatcher schedule (also created by migration 0002)."""
    schedule, _ = Schedule.objects.get_or_create(
        name=DISPATCH_SCHEDULE,
        defaults={
            "func": "mailings.tasks.dispatch_due",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return schedule


# --- next_run_at ----------------------------------------------------------------------


def reschedule(mailing_id: int, *, start_now: bool, now: datetime | None = None) -> bool:
    """Recompute next_run_at and status. Returns True when the mailing is due now.

    start_now: a create/edit/enable within the window starts a run at once even
    when the current slot has already run (an extra run for the change)."""
    now = now or timezone.now()
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update(of=("self",)).select_related("owner").filter(pk=mailing_id).first()
        if mailing is None:
            clear_wakeup(mailing_id)
            return False
        runs = Run.objects.filter(mailing_id=mailing_id)
        has_active = runs.filter(status__in=ACTIVE_RUN_STATUSES).exists()
        once_done = runs.filter(status=RunStatus.FINISHED).exists()
        status = compute_status(
            mailing, now=now, has_active_run=has_active, has_runs=runs.exists(), once_done=once_done
        )
        next_run_at = None
        due_now = False
        if status != MailingStatus.COMPLETED and is_runnable(mailing):
            current = latest_slot(mailing, now)
            if current is not None and not has_active:
                if not runs.filter(scheduled_for=current).exists():
                    next_run_at, due_now = current, True
                elif start_now and not (mailing.periodicity == Periodicity.ONCE and once_done):
                    next_run_at, due_now = now.replace(microsecond=0), True
            if next_run_at is None:
                next_run_at = next_slot_after(mailing, now)
        if mailing.next_run_at != next_run_at or mailing.status != status:
            Mailing.objects.filter(pk=mailing_id).update(next_run_at=next_run_at, status=status)
            mailings_changed.send(sender=Mailing, pks=[mailing_id])
        if due_now or next_run_at is None:
            clear_wakeup(mailing_id)
        else:
            set_wakeup(mailing_id, next_run_at)
    return due_now


def due_mailings(now: datetime):
    """Mailings whose next run is due: active, owner not blocked, not completed."""
    return Mailing.objects.filter(
        Q(next_run_at__lte=now),
        is_active=True,
        owner__is_blocked=False,
    ).exclude(status=MailingStatus.COMPLETED)


# --- signal receivers (connected in MailingsConfig.ready) ---------------------------------


def mailing_deleted(sender, instance, **kwargs):
    """A deleted mailing (also by cascade from its owner's account) leaves
    nothing scheduled: its django-q2 wake-up goes; its runs and deliveries go
    by cascade, so chunk tasks still queued find nothing and return."""
    clear_wakeup(instance.pk)
