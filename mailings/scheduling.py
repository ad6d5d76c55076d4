"""When mailings are due: the schedule slots, `next_run_at` and the status.

Contract used by the services: `mailing_changed(mailing)` is called (after the
transaction commits) whenever a mailing is created, edited, enabled or
disabled; it recomputes `next_run_at` and status and starts a run at once if
the mailing is due now.

Slots are `start_at + k periods` computed on the wall clock of
settings.TIME_ZONE, so a daily 09:00 mailing stays at 09:00 across a
daylight-saving change; monthly slots keep the start's day of the month,
clamped to the month's last day (31 Jan -> 28/29 Feb -> 31 Mar). A slot runs
only while it is before `end_at`.

The database is the source of truth: `Mailing.next_run_at` says when a mailing
is next due; the django-q2 schedules are only alarm clocks that wake the
dispatcher (`mailings.sending.dispatch_mailing`).
"""

import calendar
import logging
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule

from mailings.models import Mailing, MailingStatus, Periodicity, Run, RunStatus
from mailings.signals import mailings_changed
from mailings.transitions import status_from_facts

logger = logging.getLogger(__name__)

# A paused run is still alive: it holds its recipients until resumed or cancelled.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.SENDING, RunStatus.DEFERRED, RunStatus.PAUSED)
# Statuses after which nothing is scheduled.
FINAL_STATUSES = (MailingStatus.COMPLETED, MailingStatus.CANCELLED)
DISPATCH_SCHEDULE = "mailings.dispatch_due"


# --- slots ----------------------------------------------------------------------


def _add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def slot(mailing: Mailing, k: int) -> datetime:
    """The k-th slot (k >= 0) of a mailing, as an aware datetime."""
    start = timezone.localtime(mailing.start_at)
    if k == 0 or mailing.periodicity == Periodicity.ONCE:
        return mailing.start_at
    if mailing.periodicity == Periodicity.DAILY:
        day = start.date() + timedelta(days=k)
    elif mailing.periodicity == Periodicity.WEEKLY:
        day = start.date() + timedelta(weeks=k)
    else:
        day = _add_months(start.date(), k, start.day)
    # Same wall-clock time in the site's zone. A time that a DST change skips
    # takes the offset before the change (it runs an hour later by the clock);
    # going through UTC gives a real instant either way.
    local = datetime.combine(day, start.time(), tzinfo=start.tzinfo)
    return local.astimezone(UTC)


def _estimate(mailing: Mailing, at: datetime) -> int:
    delta = at - mailing.start_at
    if mailing.periodicity == Periodicity.DAILY:
        return max(0, delta.days)
    if mailing.periodicity == Periodicity.WEEKLY:
        return max(0, delta.days // 7)
    start, now = timezone.localtime(mailing.start_at), timezone.localtime(at)
    return max(0, (now.year - start.year) * 12 + now.month - start.month)


def latest_slot(mailing: Mailing, at: datetime) -> datetime | None:
    """The last slot at or before `at` (and before the end), or None."""
    if at < mailing.start_at:
        return None
    if mailing.periodicity == Periodicity.ONCE:
        return mailing.start_at if mailing.start_at < mailing.end_at else None
    k = _estimate(mailing, at)
    while slot(mailing, k + 1) <= at:
        k += 1
    while k > 0 and slot(mailing, k) > at:
        k -= 1
    # A slot at or after the end never runs; step back to the last one before it.
    while k > 0 and slot(mailing, k) >= mailing.end_at:
        k -= 1
    found = slot(mailing, k)
    return found if found < mailing.end_at else None


def next_slot_after(mailing: Mailing, at: datetime) -> datetime | None:
    """The first slot strictly after `at` that is before the end, or None."""
    if at < mailing.start_at:
        return mailing.start_at if mailing.start_at < mailing.end_at else None
    if mailing.periodicity == Periodicity.ONCE:
        return None
    k = _estimate(mailing, at)
    while k > 0 and slot(mailing, k) > at:
        k -= 1
    while slot(mailing, k) <= at:
        k += 1
    found = slot(mailing, k)
    return found if found < mailing.end_at else None


# --- status -------------------------------------------------------------------------


def is_runnable(mailing: Mailing) -> bool:
    """A disabled mailing or a blocked owner's mailing starts nothing."""
    return mailing.is_active and not mailing.owner.is_blocked


def compute_status(mailing: Mailing, *, now: datetime, has_active_run: bool, has_runs: bool, once_done: bool) -> str:
    """A mailing's status from the facts: decided in mailings.transitions."""
    return status_from_facts(mailing, now=now, has_active_run=has_active_run, has_runs=has_runs, once_done=once_done)


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
    if status in FINAL_STATUSES:
        updates["next_run_at"] = None
    if status != mailing.status or (status in FINAL_STATUSES and mailing.next_run_at):
        Mailing.objects.filter(pk=mailing_id).update(**updates)
        mailings_changed.send(sender=Mailing, pks=[mailing_id])
    if status in FINAL_STATUSES:
        clear_wakeup(mailing_id)
    return status


def complete_ended(*, now: datetime | None = None) -> int:
    """Periodic mailings past their end with nothing at work become completed."""
    now = now or timezone.now()
    ids = list(
        Mailing.objects.filter(end_at__lte=now)
        .exclude(status__in=FINAL_STATUSES)
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


# --- the contract ---------------------------------------------------------------------


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
        # A paused mailing is not planned until it is resumed; a cancelled one never again.
        if status not in FINAL_STATUSES and is_runnable(mailing) and not mailing.paused_at:
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


def mailing_changed(mailing) -> None:
    """A mailing was created, edited, enabled or disabled: recompute its
    schedule; stop its runs if it may no longer send; start a run at once
    (on django-q2) if it is due now."""
    from django_q.tasks import async_task

    from mailings.sending import stop_runs_if_not_runnable

    mailing_id = mailing.pk if isinstance(mailing, Mailing) else int(mailing)
    stop_runs_if_not_runnable(mailing_id)
    if reschedule(mailing_id, start_now=True):
        async_task("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")


def owner_changed(user) -> None:
    """A user was blocked or unblocked: stop or resume their mailings."""
    from django_q.tasks import async_task

    from mailings.sending import stop_runs_if_not_runnable

    for mailing_id in (
        Mailing.objects.filter(owner=user).exclude(status__in=FINAL_STATUSES).values_list("pk", flat=True)
    ):
        stop_runs_if_not_runnable(mailing_id)
        if reschedule(mailing_id, start_now=False):
            async_task("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")


def due_mailings(now: datetime):
    """Mailings whose next run is due: active, owner not blocked, not completed."""
    return Mailing.objects.filter(
        Q(next_run_at__lte=now),
        is_active=True,
        owner__is_blocked=False,
        paused_at__isnull=True,
        cancelled_at__isnull=True,
    ).exclude(status__in=FINAL_STATUSES)


# --- signal receivers (connected in MailingsConfig.ready) ---------------------------------


def mailing_deleted(sender, instance, **kwargs):
    """A deleted mailing (also by cascade from its owner's account) leaves
    nothing scheduled: its django-q2 wake-up goes; its runs and deliveries go
    by cascade, so chunk tasks still queued find nothing and return."""
    clear_wakeup(instance.pk)


def owner_saved(sender, instance, created, update_fields=None, **kwargs):
    """Blocking an owner stops their runs within seconds; unblocking lets
    their mailings be scheduled again."""
    if created or (update_fields is not None and "is_blocked" not in update_fields):
        return
    transaction.on_commit(lambda: owner_changed(instance))
