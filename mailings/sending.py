"""The sending engine: runs, chunks, claims, sending.

A run is one sending of a mailing. Starting it snapshots the recipients into
Delivery rows (one INSERT ... SELECT, whatever the list size) and fans chunk
tasks out over django-q2. A chunk claims up to MAILINGS_CHUNK_SIZE deliveries
with one conditional UPDATE (on PostgreSQL behind SELECT ... FOR UPDATE SKIP
LOCKED), opens one SMTP connection and sends them all over it.

Exactly one success per client and run:
- claims: a delivery is sent only by the chunk holding its claim token;
- the journal: each Attempt is INSERTed right after the server's reply, before
  the next message goes out; a unique constraint allows one success per
  (run, client). A worker killed mid-chunk leaves claims that go stale; they
  are settled from the journal (a success on record means sent), so only the
  one message that was on the wire when the worker died can be sent twice.
Everything else (delivery states, run counters, heartbeats) is written in
batches, every MAILINGS_FLUSH_EVERY messages or MAILINGS_CHECK_SECONDS.

The database is the source of truth; django-q2 messages are only nudges. The
minute dispatcher (`dispatch_due`) also revives deferred runs, settles stale
claims and re-enqueues runs whose chunks went quiet, so a lost broker message
or a killed cluster never loses a recipient.
"""

import logging
import math
import os
import random
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mailings import scheduling
from mailings.engine import limits
from mailings.models import (
    Attempt,
    AttemptStatus,
    Client,
    Delivery,
    DeliveryState,
    Mailing,
    MailingStatus,
    Run,
    RunStatus,
)
from mailings.signals import mailings_changed
from mailings.smtp import Fault, MessageTemplate, Outcome, get_transport

logger = logging.getLogger(__name__)

ACTIVE = scheduling.ACTIVE_RUN_STATUSES
PAUSED = "paused"  # should_stop's answer for a paused run
IN_FLIGHT = (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.RETRY)


def worker_name() -> str:
    node = settings.MAILINGS_NODE_NAME or socket.gethostname()
    return f"{node}:{os.getpid()}"[:100]


def backoff(tries: int, *, base: float, cap: float) -> timedelta:
    """Exponential backoff with +-20% jitter, so retries do not arrive in step."""
    delay = min(cap, base * 2 ** max(0, tries - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def claimable(now: datetime) -> Q:
    return Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.RETRY, next_try_at__lte=now)


@contextmanager
def journal_session():
    """On PostgreSQL, commits of the sending journal do not wait for the WAL
    flush (synchronous_commit=off): a killed worker loses nothing it was told
    is committed; only a crash of the database server itself can lose the
    last fraction of a second (README, "Sending engine")."""
    use = settings.MAILINGS_ASYNC_COMMIT and connection.vendor == "postgresql"
    if use:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if use:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


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
            scheduling.due_mailings(now)
            .filter(pk=mailing_id)
            .select_related("owner", "message")
            .exclude(runs__status__in=ACTIVE)
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        mailing = qs.first()
        if mailing is None:
            return None
        old = mailing.next_run_at
        current = scheduling.latest_slot(mailing, now) if now < mailing.end_at else None
        next_run_at = scheduling.next_slot_after(mailing, now)
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
    mailings_changed.send(sender=Mailing, pks=[mailing_id])
    if scheduled_for is None or run is None:
        scheduling.refresh_status(mailing_id, now=now)
        scheduling.set_wakeup(mailing_id, next_run_at)
        return None
    scheduling.set_wakeup(mailing_id, next_run_at)
    logger.info("Mailing %s: run %s for %s, %s recipients", mailing_id, run.pk, scheduled_for, run.recipients_count)
    if run.recipients_count == 0:
        finalize_run(run.pk)
    elif enqueue:
        enqueue_chunks(run.pk, run.recipients_count)
    return run


def enqueue_chunks(run_id: int, count: int) -> int:
    """Fan a run out: one django-q2 task per chunk of deliveries."""
    from django_q.tasks import async_task

    chunks = max(1, math.ceil(count / settings.MAILINGS_CHUNK_SIZE))
    for _i in range(chunks):
        async_task("mailings.tasks.send_chunk", run_id, group=f"mailings-run-{run_id}")
    return chunks


# --- stopping, deferring, finishing ----------------------------------------------------------


def stop_reason_for(mailing: Mailing) -> str:
    if not mailing.is_active:
        reason = _("The mailing was disabled by a manager.")
        return f"{reason} {mailing.disabled_reason}".strip()
    return _("The owner's account is blocked.")


def stop_run(run_id: int, reason: str, *, token: str = "", status: str = RunStatus.STOPPED) -> None:
    """Stop a run (STOPPED, or CANCELLED by its owner): nothing more is sent;
    recipients not yet sent are recorded as skipped with the reason. Chunks at
    work notice within seconds and skip what they hold."""
    now = timezone.now()
    with transaction.atomic():
        Run.objects.filter(pk=run_id, status__in=ACTIVE).update(
            status=status, stop_reason=reason, finished_at=now, retry_at=None, paused_until=None, waiting_until=None
        )
        waiting = Q(state__in=(DeliveryState.PENDING, DeliveryState.RETRY))
        if token:
            waiting |= Q(state=DeliveryState.SENDING, claim_token=token)
        Delivery.objects.filter(run_id=run_id).filter(waiting).update(
            state=DeliveryState.SKIPPED, last_reply=reason, claim_token="", next_try_at=None
        )
    finalize_run(run_id)


# --- pausing ----------------------------------------------------------------------------------

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


def stop_runs_if_not_runnable(mailing_id: int) -> int:
    """A disabled mailing or a blocked owner: stop the mailing's active runs."""
    mailing = Mailing.objects.select_related("owner").filter(pk=mailing_id).first()
    if mailing is None or scheduling.is_runnable(mailing):
        return 0
    reason = stop_reason_for(mailing)
    run_ids = list(Run.objects.filter(mailing_id=mailing_id, status__in=ACTIVE).values_list("pk", flat=True))
    for run_id in run_ids:
        stop_run(run_id, reason)
    return len(run_ids)


def defer_run(run_id: int, reason: str, *, now: datetime | None = None) -> None:
    """The mail server cannot be reached: stop hammering it, try again later
    with exponential backoff, give up after MAILINGS_DEFER_GIVE_UP_SECONDS."""
    now = now or timezone.now()
    run = Run.objects.filter(pk=run_id).only("defer_count", "deferred_since", "status").first()
    if run is None or run.status not in ACTIVE:
        return
    since = run.deferred_since or now
    if (now - since).total_seconds() >= settings.MAILINGS_DEFER_GIVE_UP_SECONDS:
        give_up = _("Gave up: the mail server was unavailable since %(since)s. %(reason)s") % {
            "since": timezone.localtime(since).strftime("%Y-%m-%d %H:%M"),
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
    Run.objects.filter(pk=run_id, status__in=ACTIVE).update(
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
    Run.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=RunStatus.FINISHED, finished_at=now, retry_at=None, **counts
    )
    Run.objects.filter(pk=run_id).exclude(status__in=ACTIVE).update(**counts)
    scheduling.refresh_status(mailing_id, now=now)
    # A periodic mailing whose slot came while this run was at work starts now.
    if scheduling.due_mailings(now).filter(pk=mailing_id).exists():
        from django_q.tasks import async_task

        async_task("mailings.tasks.dispatch_mailing", mailing_id, group="mailings-dispatch")
    return True


# --- chunks ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Claimed:
    id: int
    client_id: int | None
    email: str
    tries: int
    name: str


@dataclass
class ChunkResult:
    run_id: int
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry: int = 0
    skipped: int = 0
    released: int = 0
    stopped: bool = False
    deferred: bool = False
    paused: bool = False
    waiting: bool = False
    connections: int = 0
    notes: list = field(default_factory=list)


def claim(run_id: int, size: int, *, now: datetime | None = None) -> tuple[str, list[Claimed]]:
    """Take up to `size` claimable deliveries of a run for this chunk.

    Portable: the UPDATE only takes rows still pending/retry-due, and the rows
    are read back by the new token, so two chunks never hold the same row. On
    PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent chunks take disjoint
    rows without waiting for each other."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = Delivery.objects.filter(run_id=run_id).filter(claimable(now)).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:size])
        if not ids:
            return token, []
        Delivery.objects.filter(pk__in=ids).filter(claimable(now)).update(
            state=DeliveryState.SENDING, claim_token=token, claimed_at=now
        )
    rows = [
        Claimed(*row)
        for row in Delivery.objects.filter(pk__in=ids, claim_token=token, state=DeliveryState.SENDING)
        .order_by("pk")
        .values_list("pk", "client_id", "email", "tries", "client__full_name")
    ]
    # The journal wins: a success already on record is never sent again.
    done = set(
        Attempt.objects.filter(
            run_id=run_id, client_id__in=[r.client_id for r in rows if r.client_id], status=AttemptStatus.SUCCESS
        ).values_list("client_id", flat=True)
    )
    if done:
        settled = [r.id for r in rows if r.client_id in done]
        Delivery.objects.filter(pk__in=settled).update(state=DeliveryState.SENT, claim_token="")
        rows = [r for r in rows if r.client_id not in done]
    return token, rows


class _AttemptInsert:
    FIELDS = ("mailing", "run", "client", "email", "attempted_at", "status", "is_temporary", "smtp_code")
    FIELDS += ("server_reply", "sent_by")

    def __init__(self):
        self._sql = {}

    def sql(self) -> str:
        vendor = connection.vendor
        if vendor not in self._sql:
            qn, meta = connection.ops.quote_name, Attempt._meta
            columns = ", ".join(qn(meta.get_field(name).column) for name in self.FIELDS)
            marks = ", ".join(["%s"] * len(self.FIELDS))
            self._sql[vendor] = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        return self._sql[vendor]

    def execute(self, params, email, run_id):
        # A prepared INSERT, not Model.save(): the ORM's per-row overhead was
        # the largest cost after the SMTP round trips themselves.
        params = (*params[:4], connection.ops.adapt_datetimefield_value(params[4]), *params[5:])
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.sql(), params)
        except IntegrityError:
            # A success already on record: this was the one repeated message.
            logger.warning("Run %s: %s already had a successful attempt", run_id, email)


ATTEMPT_INSERT = _AttemptInsert()


class Journal:
    """Writes the attempts, one committed INSERT each.

    In a worker (autocommit) the INSERT runs on a helper thread with its own
    database connection, so writing message k's attempt overlaps the MAIL and
    RCPT round trips of message k+1; `wait()` is called before k+1's DATA, so
    at most one accepted message is ever without its record. Inside a
    transaction (tests, a caller's atomic block) another connection could not
    see the run, so it writes inline."""

    def __init__(self, run_id: int, *, threaded: bool | None = None):
        self.run_id = run_id
        self.threaded = (not connection.in_atomic_block) if threaded is None else threaded
        self.pool = None
        self.pending = None

    def __enter__(self):
        if self.threaded:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
            self.pool.submit(self._enter_session).result()
        return self

    def _enter_session(self):
        self._session = journal_session()
        self._session.__enter__()

    def _leave_session(self):
        try:
            self._session.__exit__(None, None, None)
        finally:
            connection.close()

    def write(self, params, email) -> None:
        if not self.threaded:
            ATTEMPT_INSERT.execute(params, email, self.run_id)
            return
        self.wait()
        self.pending = self.pool.submit(ATTEMPT_INSERT.execute, params, email, self.run_id)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def __exit__(self, *exc):
        if self.pool is not None:
            try:
                self.wait()
            finally:
                self.pool.submit(self._leave_session).result()
                self.pool.shutdown()


class ChunkSender:
    """Sends one claimed chunk over one SMTP connection."""

    def __init__(self, run: Run, token: str, rows: list[Claimed], *, transport=None, progress=None):
        self.run = run
        self.mailing = run.mailing
        self.token = token
        self.rows = rows
        self.transport = transport or get_transport()
        self.progress = progress
        self.result = ChunkResult(run_id=run.pk, claimed=len(rows))
        self.sent_by = worker_name()
        message = self.mailing.message
        self.template = MessageTemplate(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            html_body=message.html_body,
        )
        self.envelope_from = _envelope_address(settings.DEFAULT_FROM_EMAIL)
        self.buffer: list[tuple[Claimed, Outcome]] = []
        self.connect_failures = 0
        self.cleared_deferral = False
        self.journal = Journal(run.pk, threaded=False)

    # The journal: one INSERT per message, right after the reply.
    def record(self, row: Claimed, outcome: Outcome) -> None:
        params = (
            self.mailing.pk,
            self.run.pk,
            row.client_id,
            row.email,
            timezone.now(),
            AttemptStatus.SUCCESS if outcome.ok else AttemptStatus.FAILED,
            outcome.temporary,
            outcome.code if outcome.code and 0 < outcome.code < 1000 else None,
            outcome.reply[:2000],
            self.sent_by,
        )
        self.journal.write(params, row.email)
        self.buffer.append((row, outcome))

    def flush(self, *, heartbeat: bool = False) -> None:
        """Batch the delivery states and run counters for the buffered outcomes."""
        self.journal.wait()  # no delivery is marked before its attempt is on record
        now = timezone.now()
        sent, updates = [], []
        n_failed = 0
        for row, outcome in self.buffer:
            row.tries += 1
            if outcome.ok:
                sent.append(row.id)
                continue
            retry = outcome.temporary and row.tries < settings.MAILINGS_MAX_TRIES
            delay = backoff(
                row.tries, base=settings.MAILINGS_RETRY_BASE_SECONDS, cap=settings.MAILINGS_RETRY_MAX_SECONDS
            )
            updates.append(
                Delivery(
                    pk=row.id,
                    state=DeliveryState.RETRY if retry else DeliveryState.FAILED,
                    tries=row.tries,
                    next_try_at=now + delay if retry else None,
                    last_reply=outcome.reply[:2000],
                    claim_token="",
                )
            )
            if retry:
                self.result.retry += 1
            else:
                self.result.failed += 1
                n_failed += 1
        self.result.sent += len(sent)
        self.buffer = []
        if not (sent or updates or heartbeat):
            return
        with transaction.atomic():
            if sent:
                Delivery.objects.filter(pk__in=sent, claim_token=self.token).update(
                    state=DeliveryState.SENT, tries=F("tries") + 1, claim_token="", last_reply=""
                )
            if updates:
                Delivery.objects.bulk_update(updates, ["state", "tries", "next_try_at", "last_reply", "claim_token"])
            run_updates = {"heartbeat_at": now}
            if sent:
                run_updates["sent_count"] = F("sent_count") + len(sent)
            if n_failed:
                run_updates["failed_count"] = F("failed_count") + n_failed
            if sent and not self.cleared_deferral:
                run_updates.update(deferred_since=None, defer_count=0, deferred_reason="", retry_at=None)
                self.cleared_deferral = True
            Run.objects.filter(pk=self.run.pk).update(**run_updates)
            if heartbeat:
                Delivery.objects.filter(run_id=self.run.pk, state=DeliveryState.SENDING, claim_token=self.token).update(
                    claimed_at=now
                )

    def should_stop(self) -> str | None:
        """Between messages (every MAILINGS_CHECK_SECONDS): is the run still
        wanted? PAUSED: give the rest back. A manager's disable wins over all."""
        row = (
            Run.objects.filter(pk=self.run.pk)
            .values_list("status", "mailing__is_active", "mailing__owner__is_blocked", "mailing__disabled_reason")
            .first()
        )
        if row is None:
            return "gone"
        status, is_active, is_blocked, disabled_reason = row
        if not is_active:
            return f"{_('The mailing was disabled by a manager.')} {disabled_reason}".strip()
        if is_blocked:
            return _("The owner's account is blocked.")
        if status == RunStatus.PAUSED:
            return PAUSED
        if status in (RunStatus.STOPPED, RunStatus.CANCELLED):
            return Run.objects.filter(pk=self.run.pk).values_list("stop_reason", flat=True).first() or "stopped"
        return None

    def within_limits(self, rest: list[Claimed]) -> bool:
        """Count this message against the site's rate limits and the owner's
        daily quota. A full window: wait for it when it opens within seconds;
        otherwise give `rest` back and let the run wait (rate) or pause until
        the owner's next day (quota). True to send."""
        while True:
            now = timezone.now()
            windows = limits.site_limits(now)
            quota = limits.quota_limit(self.mailing.owner, now)
            if quota is not None:
                windows.append(quota)
            full = limits.take(windows)
            if full is None:
                return True
            wait = (full.resets_at - now).total_seconds()
            if full.kind == limits.RATE and wait <= settings.MAILINGS_RATE_MAX_SLEEP_SECONDS:
                self.flush(heartbeat=True)
                time.sleep(max(wait, 0.001))
                continue
            self.flush()
            self.release(rest)
            if full.kind == limits.QUOTA:
                reason = _("The daily quota of %(quota)s messages was reached; sending continues tomorrow.") % {
                    "quota": full.limit
                }
                pause_runs(Run.objects.filter(pk=self.run.pk), reason=reason, until=full.resets_at)
                self.result.paused = True
            else:
                Run.objects.filter(pk=self.run.pk).update(waiting_until=full.resets_at)
                self.result.waiting = True
            logger.info("Run %s: %s full until %s", self.run.pk, full.key, full.resets_at)
            return False

    def pause(self, rest: list[Claimed]) -> None:
        """The run was paused: what is on the wire is done; the rest goes back."""
        self.flush()
        self.release(rest)
        self.result.paused = True

    def release(self, rows: list[Claimed]) -> None:
        """Give unsent rows back (the run is deferred); their tries are not used up."""
        if rows:
            Delivery.objects.filter(pk__in=[r.id for r in rows], claim_token=self.token).update(
                state=DeliveryState.PENDING, claim_token="", claimed_at=None
            )
            self.result.released += len(rows)

    def send_all(self) -> ChunkResult:
        check_every = settings.MAILINGS_CHECK_SECONDS
        flush_every = settings.MAILINGS_FLUSH_EVERY
        last_check = time.monotonic()
        rows = self.rows
        i = 0
        with journal_session(), Journal(self.run.pk) as self.journal:
            try:
                while i < len(rows):
                    if time.monotonic() - last_check >= check_every:
                        self.flush(heartbeat=True)
                        last_check = time.monotonic()
                        reason = self.should_stop()
                        if reason == PAUSED:
                            self.pause(rows[i:])
                            return self.result
                        if reason:
                            self.stop(reason, rows[i:])
                            return self.result
                    if not self.within_limits(rows[i:]):
                        return self.result
                    row = rows[i]
                    if not self.transport.connected:
                        opened = self.transport.open()
                        if not opened.ok:
                            if not self.connect_failed(row, opened, rows[i + 1 :]):
                                return self.result
                            i += 1
                            continue
                        self.result.connections += 1
                    key = f"r{self.run.pk}.d{row.id}"
                    if self.transport.wants_bytes:
                        payload = self.template.render(email=row.email, name=row.name, key=key)
                    else:
                        payload = self.template.render_message(email=row.email, name=row.name, key=key)
                    # The previous attempt is on record before this message's data goes out.
                    outcome = self.transport.send(self.envelope_from, row.email, payload, before_data=self.journal.wait)
                    if outcome.fault == Fault.UNAVAILABLE:
                        # The connection was lost and cannot be reopened.
                        self.record(row, outcome)
                        self.flush()
                        self.result.deferred = True
                        self.release(rows[i + 1 :])
                        defer_run(self.run.pk, outcome.reply)
                        return self.result
                    self.record(row, outcome)
                    if outcome.ok:
                        self.connect_failures = 0
                    i += 1
                    if self.progress is not None:
                        self.progress(1)
                    if len(self.buffer) >= flush_every:
                        self.flush()
                self.flush()
            finally:
                self.transport.close()
        return self.result

    def connect_failed(self, row: Claimed, outcome: Outcome, rest: list[Claimed]) -> bool:
        """A connection could not be opened. Unreachable: defer the run. A 4xx
        greeting or a silent server: that message fails as temporary and we
        reconnect, until too many in a row defer the run. True to go on."""
        if outcome.fault == Fault.UNAVAILABLE:
            # Nothing was sent: the attempt records why, the row goes back untouched.
            self.record(row, outcome)
            self.buffer.pop()
            self.release([row, *rest])
            self.flush()
            self.result.deferred = True
            defer_run(self.run.pk, outcome.reply)
            return False
        self.record(row, outcome)
        self.connect_failures += 1
        if self.progress is not None:
            self.progress(1)
        if self.connect_failures >= settings.MAILINGS_MAX_CONNECT_FAILURES:
            self.flush()
            self.release(rest)
            self.result.deferred = True
            defer_run(self.run.pk, outcome.reply)
            return False
        return True

    def stop(self, reason: str, rest: list[Claimed]) -> None:
        self.flush()
        self.result.stopped = True
        if reason == "gone":
            return
        self.result.skipped += len(rest)
        stop_run(self.run.pk, reason, token=self.token)


def _envelope_address(from_email: str) -> str:
    from email.utils import parseaddr

    return parseaddr(from_email)[1] or from_email


def send_chunk(run_id: int, *, size: int | None = None, progress=None, transport=None) -> ChunkResult:
    """Claim one chunk of a run and send it. Safe to call any number of times:
    with nothing left to claim it just checks whether the run is finished."""
    result = ChunkResult(run_id=run_id)
    run = Run.objects.select_related("mailing__message", "mailing__owner").filter(pk=run_id).first()
    if run is None:
        return result
    now = timezone.now()
    if run.status not in (RunStatus.PENDING, RunStatus.SENDING):
        # Stopped, finished, or deferred and not yet due: leave the server alone.
        return result
    if not scheduling.is_runnable(run.mailing):
        stop_run(run_id, stop_reason_for(run.mailing))
        result.stopped = True
        return result
    token, rows = claim(run_id, size or settings.MAILINGS_CHUNK_SIZE, now=now)
    if not rows:
        finalize_run(run_id)
        return result
    Run.objects.filter(pk=run_id, status=RunStatus.PENDING).update(status=RunStatus.SENDING)
    Run.objects.filter(pk=run_id).update(heartbeat_at=now)
    sender = ChunkSender(run, token, rows, transport=transport, progress=progress)
    result = sender.send_all()
    if not (result.deferred or result.waiting):
        finalize_run(run_id)
    return result


def send_run_inline(run_id: int, *, progress=None) -> list[ChunkResult]:
    """Send every claimable delivery of a run in this process (runmailing, bench)."""
    results = []
    while True:
        result = send_chunk(run_id, progress=progress)
        results.append(result)
        if not result.claimed or result.stopped or result.deferred or result.paused or result.waiting:
            return results


# --- the sweeper -------------------------------------------------------------------------------


def settle_stale_claims(*, now: datetime | None = None) -> int:
    """Claims not refreshed for MAILINGS_CLAIM_STALE_SECONDS belong to a dead
    worker. The journal decides: a success on record -> sent; otherwise the
    row is claimable again (a stopped run's rows are skipped)."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(
        run__in=Run.objects.filter(status__in=(*ACTIVE, RunStatus.STOPPED)).values("pk"),
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
        if not scheduling.is_runnable(run.mailing):
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


def dispatch_due(*, now: datetime | None = None) -> dict:
    """The minute dispatcher: start due mailings, revive deferred and stalled
    runs, settle stale claims, complete ended mailings."""
    now = now or timezone.now()
    started = []
    for mailing_id in scheduling.due_mailings(now).values_list("pk", flat=True).order_by("next_run_at"):
        run = start_due_run(mailing_id, now=now)
        if run is not None:
            started.append(run.pk)
    summary = {
        "started": started,
        "settled": settle_stale_claims(now=now),
        "resumed": resume_deferred(now=now),
        "revived": revive_stalled(now=now),
        "unpaused": resume_due_pauses(now=now),
        "completed": scheduling.complete_ended(now=now),
        "limit_windows_purged": limits.purge_expired(now),
    }
    if any(summary.values()):
        logger.info("Dispatcher: %s", summary)
    return summary


def dispatch_mailing(mailing_id: int, *, now: datetime | None = None) -> Run | None:
    """Start one mailing's run if it is due (its wake-up, or a change)."""
    return start_due_run(mailing_id, now=now)


# --- retry failed recipients ---------------------------------------------------------------------


def retry_failed(*, run: Run) -> int:
    """Send again, in the same run, to the recipients whose last attempt failed.
    Only for a finished run of a mailing that may send."""
    if run.status != RunStatus.FINISHED or not scheduling.is_runnable(run.mailing):
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
