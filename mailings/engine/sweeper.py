"""The sweeper: what the minute dispatcher repairs. Stale claims of dead
workers, deferred runs whose retry time came, runs whose chunks went quiet
(a lost broker message, a killed cluster): no recipient is ever lost.

`sweep` is the short round every cluster's main process runs each
MAILINGS_SWEEP_SECONDS (our `qcluster` command): a dead cluster's claims are
taken back, and idle workers fed, within seconds rather than minutes. One
sweep at a time on the whole site (a lock in the shared cache), and every
repair is a conditional UPDATE, so two sweepers never do one repair twice."""

import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from mailings.engine import fleet, wakeup
from mailings.engine.claims import claimable
from mailings.engine.runs import enqueue_chunks, finalize_run, stop_reason_for, stop_run
from mailings.engine.schedule import is_runnable
from mailings.models import ACTIVE_RUN_STATUSES, Attempt, AttemptStatus, Delivery, DeliveryState, Run, RunStatus

logger = logging.getLogger(__name__)


def settle_stale_claims(*, now: datetime | None = None) -> int:
    """Claims not refreshed for MAILINGS_CLAIM_STALE_SECONDS belong to a dead
    worker. The journal decides: a success on record -> sent; otherwise the
    row is claimable again (a stopped run's rows are skipped)."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(
        run__in=Run.objects.filter(status__in=(*ACTIVE_RUN_STATUSES, RunStatus.STOPPED)).values("pk"),
        state=DeliveryState.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.MAILINGS_CLAIM_STALE_SECONDS),
    )
    settled = 0
    for run_id in set(stale.values_list("run_id", flat=True)):
        rows = stale.filter(run_id=run_id)
        done = Attempt.objects.filter(run_id=run_id, status=AttemptStatus.SUCCESS).values("client_id")
        settled += rows.filter(client_id__in=done).update(state=DeliveryState.SENT, claim_token="")
        status = Run.objects.filter(pk=run_id).values_list("status", flat=True).first()
        if status == RunStatus.STOPPED:
            reason = Run.objects.filter(pk=run_id).values_list("stop_reason", flat=True).first()
            settled += rows.update(state=DeliveryState.SKIPPED, claim_token="", last_reply=reason or "")
        else:
            settled += rows.update(state=DeliveryState.PENDING, claim_token="", claimed_at=None)
        logger.warning("Run %s: took back stale claims", run_id)
        finalize_run(run_id)
    return settled


def resume_deferred(*, now: datetime | None = None) -> list[int]:
    """Deferred runs whose retry time came: try the mail server again."""
    now = now or timezone.now()
    resumed = []
    for run in Run.objects.filter(status=RunStatus.DEFERRED, retry_at__lte=now).select_related("mailing__owner"):
        if not is_runnable(run.mailing):
            stop_run(run.pk, stop_reason_for(run.mailing))
            continue
        if Run.objects.filter(pk=run.pk, status=RunStatus.DEFERRED, retry_at=run.retry_at).update(
            status=RunStatus.SENDING, heartbeat_at=now
        ):
            left = Delivery.objects.filter(run_id=run.pk).filter(claimable(now)).count()
            enqueue_chunks(run.pk, left)
            resumed.append(run.pk)
    return resumed


def revive_stalled(*, now: datetime | None = None) -> list[int]:
    """Runs with claimable work and no heartbeat for MAILINGS_RUN_IDLE_SECONDS
    (their tasks were lost, or retries came due): enqueue their chunks again.
    Runs with nothing left in flight are finished."""
    now = now or timezone.now()
    quiet = now - timedelta(seconds=settings.MAILINGS_RUN_IDLE_SECONDS)
    revived = []
    # A run waiting for a sending limit is left alone until the limit's window opens.
    runs = (
        Run.objects.filter(status__in=(RunStatus.PENDING, RunStatus.SENDING))
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=quiet))
        .filter(Q(waiting_until__isnull=True) | Q(waiting_until__lte=now))
    )
    for run_id in runs.values_list("pk", flat=True):
        left = Delivery.objects.filter(run_id=run_id).filter(claimable(now)).count()
        if left:
            if (
                Run.objects.filter(pk=run_id)
                .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=quiet))
                .update(heartbeat_at=now, waiting_until=None)
            ):
                enqueue_chunks(run_id, left)
                revived.append(run_id)
        elif not Delivery.objects.filter(run_id=run_id, state=DeliveryState.SENDING).exists():
            finalize_run(run_id)
    return revived


SWEEP_LOCK = "mailings:sweep"


def sweep(*, now: datetime | None = None) -> dict | None:
    """The short round: take back stale claims, feed idle workers. None when
    another process swept within the last MAILINGS_SWEEP_SECONDS."""
    # cache.add is atomic (SET NX on Redis): the first sweeper of the interval wins.
    if not cache.add(SWEEP_LOCK, 1, timeout=max(1, math.floor(settings.MAILINGS_SWEEP_SECONDS * 0.8))):
        return None
    now = now or timezone.now()
    return {"settled": settle_stale_claims(now=now), "fed": feed_idle_workers(now=now)}


def feed_idle_workers(*, now: datetime | None = None) -> list[int]:
    """Live workers with nothing to do while runs have claimable work: a
    cluster joined mid-run, or a killed one took queued chunk tasks with it.
    Enqueue a chunk task per idle worker, oldest heartbeat first. Idle = live
    workers - chunks holding fresh claims - tasks waiting on the broker."""
    if fleet.inline():
        return []
    now = now or timezone.now()
    live, waiting = fleet.live_workers(), fleet.queued()
    if not live or waiting is None:
        return []
    sending = (RunStatus.PENDING, RunStatus.SENDING)
    busy = (
        Delivery.objects.filter(
            run__in=Run.objects.filter(status__in=sending).values("pk"),
            state=DeliveryState.SENDING,
            claimed_at__gte=now - timedelta(seconds=settings.MAILINGS_CLAIM_STALE_SECONDS),
        )
        .values("claim_token")
        .distinct()
        .count()
    )
    idle = live - busy - waiting
    fed = []
    runs = (
        Run.objects.filter(status__in=sending)
        .filter(Q(waiting_until__isnull=True) | Q(waiting_until__lte=now))
        .order_by("heartbeat_at", "pk")
        .values_list("pk", flat=True)
    )
    for run_id in runs if idle > 0 else ():
        left = Delivery.objects.filter(run_id=run_id).filter(claimable(now)).count()
        for _i in range(min(idle, math.ceil(left / settings.MAILINGS_CHUNK_SIZE))):
            wakeup.enqueue("mailings.tasks.send_chunk", run_id, group=f"mailings-run-{run_id}")
            idle -= 1
            fed.append(run_id)
        if idle <= 0:
            break
    if fed:
        logger.info("Sweep: fed %s idle workers (%s live, %s busy, %s queued)", len(fed), live, busy, waiting)
    return fed
