"""The life of a run: start (snapshot the recipients, fan chunks out), stop,
defer while the mail server is unreachable, finish, and retry the failed.

A run is one sending of a mailing. Starting it snapshots the recipients into
Delivery rows (one INSERT ... SELECT, whatever the list size) and fans chunk
tasks out over django-q2. Delivery states and run counters are the database's;
django-q2 messages are only nudges.
"""

import logging
import math
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from mailings.engine import fleet, wakeup
from mailings.engine.backoff import backoff
from mailings.engine.schedule import due_mailings, is_runnable, refresh_status, set_wakeup
from mailings.engine.slots import latest_slot, next_slot_after
from mailings.engine.suppression import skip_suppressed
from mailings.models import (
    ACTIVE_RUN_STATUSES,
    Client,
    Delivery,
    DeliveryState,
    Mailing,
    MailingStatus,
    Run,
    RunStatus,
)
from mailings.signals import mailings_changed

logger = logging.getLogger(__name__)

IN_FLIGHT = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.RETRY)


# --- starting runs ---------------------------------------------------------------------


def snapshot_recipients(run: Run) -> int:
    """Copy the mailing's clients into Delivery rows with one INSERT ... SELECT:
    constant memory and one round trip for any number of clients."""
    qn = connection.ops.quote_name
    through = Mailing.clients.through._meta
    delivery, client = Delivery._meta, Client._meta
    sql = (
        f"INSERT INTO {qn(delivery.db_table)} "  # noqa: S608 - table names from model metadata
        f"({qn('run_id')}, {qn('client_id')}, {qn('email')}, {qn('state')}, {qn('tries')}, "
        f"{qn('claim_token')}, {qn('last_reply')}) "
        f"SELECT %s, c.{qn('id')}, c.{qn('email')}, %s, 0, '', '' "
        f"FROM {qn(client.db_table)} c INNER JOIN {qn(through.db_table)} mc "
        f"ON mc.{qn(through.get_field('client').column)} = c.{qn('id')} "
        f"WHERE mc.{qn(through.get_field('mailing').column)} = %s ORDER BY c.{qn('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, DeliveryState.PENDING, run.mailing_id])
        return cursor.rowcount


def start_due_run(mailing_id: int, *, now: datetime | None = None, enqueue: bool = True) -> Run | None:
    """Start the run of a mailing if it is due: one run for the latest due
    slot (catch-up), next_run_at moved to the next future slot. Two workers
    racing for the same slot: the conditional UPDATE lets one win."""
    now = now or timezone.now()
    run = None
    with transaction.atomic():
        qs = (
            due_mailings(now)
            .filter(pk=mailing_id)
            .select_related("owner", "message")
            .exclude(runs__status__in=ACTIVE_RUN_STATUSES)
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        mailing = qs.first()
        if mailing is None:
            return None
        old = mailing.next_run_at
        current = latest_slot(mailing, now) if now < mailing.end_at else None
        next_run_at = next_slot_after(mailing, now)
        if current is None:
            # Past the end (or nothing left): nothing to send.
            Mailing.objects.filter(pk=mailing_id, next_run_at=old).update(next_run_at=next_run_at)
            scheduled_for = None
        else:
            scheduled_for = max(old, current)
            won = Mailing.objects.filter(pk=mailing_id, next_run_at=old).update(
                next_run_at=next_run_at, status=MailingStatus.RUNNING
            )
            if not won:
                return None
            try:
                with transaction.atomic():
                    run = Run.objects.create(
                        mailing=mailing, scheduled_for=scheduled_for, status=RunStatus.PENDING, heartbeat_at=now
                    )
            except IntegrityError:
                logger.info("Mailing %s: slot %s already has a run", mailing_id, scheduled_for)
            if run is not None:
                run.recipients_count = snapshot_recipients(run)
                Run.objects.filter(pk=run.pk).update(recipients_count=run.recipients_count)
                run.suppressed_count = skip_suppressed(run)
    mailings_changed.send(sender=Mailing, pks=[mailing_id])
    if scheduled_for is None or run is None:
        refresh_status(mailing_id, now=now)
        set_wakeup(mailing_id, next_run_at)
        return None
    set_wakeup(mailing_id, next_run_at)
    logger.info("Mailing %s: run %s for %s, %s recipients", mailing_id, run.pk, scheduled_for, run.recipients_count)
    to_send = run.recipients_count - run.suppressed_count
    if to_send == 0:
        finalize_run(run.pk)
    elif enqueue:
        enqueue_chunks(run.pk, to_send)
    return run


def enqueue_chunks(run_id: int, count: int) -> int:
    """Fan a run out over django-q2: a chunk task per live worker (and one to
    spare), never more than the run has chunks; each passes the baton on when
    it ends (engine.relay). Tasks run inline (Q_SYNC): one per chunk."""
    chunks = max(1, math.ceil(count / settings.MAILINGS_CHUNK_SIZE))
    if not fleet.inline():
        chunks = min(chunks, fleet.fan_out())
    for _i in range(chunks):
        wakeup.enqueue("mailings.tasks.send_chunk", run_id, group=f"mailings-run-{run_id}")
    return chunks


# --- stopping, deferring, finishing ----------------------------------------------------------


def stop_reason(*, is_active: bool, is_blocked: bool, disabled_reason: str = "") -> str | None:
    """Why a mailing may not send (the one place for these texts), or None."""
    if not is_active:
        # Not inside an f-string: makemessages would not find the text there.
        disabled = _("The mailing was disabled by a manager.")
        return f"{disabled} {disabled_reason}".strip()
    if is_blocked:
        return _("The owner's account is blocked.")
    return None


def stop_reason_for(mailing: Mailing) -> str:
    """The stop reason of a mailing that is not runnable."""
    return (
        stop_reason(
            is_active=mailing.is_active, is_blocked=mailing.owner.is_blocked, disabled_reason=mailing.disabled_reason
        )
        or ""
    )


def stop_run(run_id: int, reason: str, *, token: str = "", status: str = RunStatus.STOPPED) -> None:
    """Stop a run (STOPPED, or CANCELLED by its owner): nothing more is sent;
    recipients not yet sent are recorded as skipped with the reason. Chunks at
    work notice within seconds and skip what they hold."""
    now = timezone.now()
    with transaction.atomic():
        Run.objects.filter(pk=run_id, status__in=ACTIVE_RUN_STATUSES).update(
            status=status, stop_reason=reason, finished_at=now, retry_at=None, paused_until=None, waiting_until=None
        )
        waiting = Q(state__in=(DeliveryState.PENDING, DeliveryState.RETRY))
        if token:
            waiting |= Q(state=DeliveryState.SENDING, claim_token=token)
        Delivery.objects.filter(run_id=run_id).filter(waiting).update(
            state=DeliveryState.SKIPPED, last_reply=reason, claim_token="", next_try_at=None
        )
    finalize_run(run_id)


def stop_runs_if_not_runnable(mailing_id: int) -> int:
    """A disabled mailing or a blocked owner: stop the mailing's active runs."""
    mailing = Mailing.objects.select_related("owner").filter(pk=mailing_id).first()
    if mailing is None or is_runnable(mailing):
        return 0
    reason = stop_reason_for(mailing)
    active = Run.objects.filter(mailing_id=mailing_id, status__in=ACTIVE_RUN_STATUSES)
    run_ids = list(active.values_list("pk", flat=True))
    for run_id in run_ids:
        stop_run(run_id, reason)
    return len(run_ids)


def defer_run(run_id: int, reason: str, *, now: datetime | None = None) -> None:
    """The mail server cannot be reached: stop hammering it, try again later
    with exponential backoff, give up after MAILINGS_DEFER_GIVE_UP_SECONDS."""
    now = now or timezone.now()
    run = Run.objects.filter(pk=run_id).only("defer_count", "deferred_since", "status").first()
    if run is None or run.status not in ACTIVE_RUN_STATUSES:
        return
    since = run.deferred_since or now
    if (now - since).total_seconds() >= settings.MAILINGS_DEFER_GIVE_UP_SECONDS:
        give_up = _("Gave up: the mail server was unavailable since %(since)s. %(reason)s") % {
            "since": date_format(timezone.localtime(since), "DATETIME_FORMAT"),
            "reason": reason,
        }
        Delivery.objects.filter(run_id=run_id, state__in=(DeliveryState.PENDING, DeliveryState.RETRY)).update(
            state=DeliveryState.FAILED, last_reply=give_up, next_try_at=None
        )
        Run.objects.filter(pk=run_id).update(status=RunStatus.SENDING, retry_at=None, deferred_reason=give_up)
        finalize_run(run_id)
        return
    delay = backoff(
        run.defer_count + 1, base=settings.MAILINGS_DEFER_BASE_SECONDS, cap=settings.MAILINGS_DEFER_MAX_SECONDS
    )
    Run.objects.filter(pk=run_id, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.DEFERRED,
        deferred_since=Coalesce(F("deferred_since"), now),
        retry_at=now + delay,
        defer_count=F("defer_count") + 1,
        deferred_reason=reason,
    )
    logger.warning("Run %s deferred until %s: %s", run_id, now + delay, reason)


def recount(run_id: int) -> dict:
    counts = dict(Delivery.objects.filter(run_id=run_id).values_list("state").annotate(n=Count("pk")).order_by())
    return {
        "sent_count": counts.get(DeliveryState.SENT, 0),
        "failed_count": counts.get(DeliveryState.FAILED, 0),
        "skipped_count": counts.get(DeliveryState.SKIPPED, 0),
        "recipients_count": sum(counts.values()),
        "in_flight": sum(counts.get(s, 0) for s in IN_FLIGHT),
    }


def finalize_run(run_id: int) -> bool:
    """When no delivery is pending, sending or waiting to retry: the counters
    are final and the run is finished (or stays stopped). True if done."""
    if Delivery.objects.filter(run_id=run_id, state__in=IN_FLIGHT).exists():
        return False
    counts = recount(run_id)
    if counts.pop("in_flight"):
        return False
    now = timezone.now()
    mailing_id = Run.objects.filter(pk=run_id).values_list("mailing_id", flat=True).first()
    if mailing_id is None:
        return True
    Run.objects.filter(pk=run_id, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.FINISHED, finished_at=now, retry_at=None, **counts
    )
    Run.objects.filter(pk=run_id).exclude(status__in=ACTIVE_RUN_STATUSES).update(**counts)
    refresh_status(mailing_id, now=now)
    # A periodic mailing whose slot came while this run was at work starts now.
    if due_mailings(now).filter(pk=mailing_id).exists():
        wakeup.enqueue("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")
    return True


# --- retry failed recipients ---------------------------------------------------------------------


def retry_failed(*, run: Run) -> int:
    """Send again, in the same run, to the recipients whose last attempt failed.
    Only for a finished run of a mailing that may send."""
    if run.status != RunStatus.FINISHED or not is_runnable(run.mailing):
        return 0
    with transaction.atomic():
        count = Delivery.objects.filter(run=run, state=DeliveryState.FAILED).update(
            state=DeliveryState.PENDING, tries=0, next_try_at=None, claim_token=""
        )
        if not count:
            return 0
        Run.objects.filter(pk=run.pk, status=RunStatus.FINISHED).update(
            status=RunStatus.SENDING,
            finished_at=None,
            failed_count=F("failed_count") - count,
            heartbeat_at=timezone.now(),
            deferred_since=None,
            defer_count=0,
            deferred_reason="",
        )
    enqueue_chunks(run.pk, count)
    return count
