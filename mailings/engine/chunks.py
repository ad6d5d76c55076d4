"""Sending a claimed chunk of a run, and the next ones of a turn
(engine.turns), over up to MAILINGS_SMTP_CONNECTIONS SMTP connections.

With PIPELINING the messages go out in rounds, one per connection: each
message's body is sent without its final "." line; once the journal has the
previous round's attempts (one commit), the round's "." lines go out, their
replies are read, and the round's attempts are sent to the journal as one
write, committed while the next round is rendered and sent. So after a crash
at most one message per connection repeats, and a round of n messages waits
for one commit, not n. Without PIPELINING: one connection, one message at a time.

Everything but the journal (delivery states, run counters, heartbeats) is
written in batches, every MAILINGS_FLUSH_EVERY messages or
MAILINGS_CHECK_SECONDS; between messages the chunk checks that the run is
still wanted.
"""

import logging
import os
import socket
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mailings.engine import claims, limits
from mailings.engine.backoff import backoff
from mailings.engine.bounces import is_hard_bounce, record_hard_bounces
from mailings.engine.claims import Claimed
from mailings.engine.journal import InlineJournal, journal_session, open_journal
from mailings.engine.message import MailBuilder
from mailings.engine.pauses import pause_runs
from mailings.engine.runs import defer_run, stop_reason, stop_run
from mailings.engine.stopping import stop_requested
from mailings.engine.transport import Fault, Outcome, describe, get_transport, smtp_address
from mailings.models import AttemptStatus, Delivery, DeliveryState, Run, RunStatus

logger = logging.getLogger(__name__)
PAUSED = "paused"  # should_stop's answer for a paused run


def worker_name() -> str:
    node = settings.MAILINGS_NODE_NAME or socket.gethostname()
    return f"{node}:{os.getpid()}"[:100]


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


class ChunkSender:
    """Sends claimed chunks in rounds over up to MAILINGS_SMTP_CONNECTIONS SMTP connections."""

    def __init__(self, run: Run, token: str, rows: list[Claimed], *, transport=None, progress=None):
        self.run = run
        self.mailing = run.mailing
        self.token = token
        self.rows = rows
        self.lanes = [transport or get_transport()]  # the SMTP connections, opened as rounds need them
        self.max_lanes = settings.MAILINGS_SMTP_CONNECTIONS  # lowered when the server takes fewer
        self.loaded: list[tuple[object, Claimed]] = []  # (connection, row): body sent, final "." not yet
        self.announced: dict[int, object] = {}  # delivery id -> the connection its envelope went out on
        self.progress = progress
        self.result = ChunkResult(run_id=run.pk, claimed=len(rows))
        self.sent_by = worker_name()
        # Markdown, sanitiser and layout once per chunk; each recipient only fills slots.
        self.template = MailBuilder(message=self.mailing.message, owner=self.mailing.owner)
        self.envelope_from = self.template.envelope_from
        self.buffer: list[tuple[Claimed, Outcome]] = []
        self.connect_failures = 0
        self.errors_in_a_row = 0
        self.last_error = ""
        self.cleared_deferral = False
        self.journal = InlineJournal(run.pk)  # replaced by a worker's journal in send_all

    # The journal: an attempt per message, a round's sent as one write.
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
        self.journal.add(params, row.email)
        self.buffer.append((row, outcome))

    def ready(self) -> None:
        """Before a message can be accepted: every earlier attempt is on record."""
        self.journal.send()
        self.journal.wait()

    def flush(self, *, heartbeat: bool = False) -> None:
        """Batch the delivery states and run counters for the buffered outcomes."""
        self.fire()  # the messages begun are ended and recorded first
        self.ready()  # no delivery is marked before its attempt is on record
        now = timezone.now()
        sent, updates, bounces = [], [], []
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
                if outcome.fault == Fault.PERMANENT and is_hard_bounce(outcome.code, outcome.reply):
                    bounces.append((row.client_id, outcome.reply))
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
            if bounces:
                record_hard_bounces(self.run.pk, bounces)

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
        reason = stop_reason(is_active=is_active, is_blocked=is_blocked, disabled_reason=disabled_reason)
        if reason:
            return reason
        if status == RunStatus.PAUSED:
            return PAUSED
        if status in (RunStatus.STOPPED, RunStatus.CANCELLED):
            return Run.objects.filter(pk=self.run.pk).values_list("stop_reason", flat=True).first() or "stopped"
        return None

    def within_limits(self, rest: list[Claimed]) -> bool:
        """Count this message against the site's rate limits and the owner's
        daily quota (engine.limits). A full window: wait for it when it opens
        within MAILINGS_RATE_MAX_SLEEP_SECONDS; otherwise give `rest` back and
        let the run wait (rate) or pause until the owner's next day (quota)."""
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

    def send_all(self, more=None) -> ChunkResult:
        """Send the claimed rows; then, while `more()` gives another claim
        (token, rows), send those too, over the same SMTP and journal connections."""
        self.last_check = time.monotonic()
        with journal_session(), open_journal(self.run.pk) as self.journal:
            try:
                while self._send_rows(self.rows):
                    self.flush()
                    claimed = more() if more is not None else None
                    if not claimed:
                        break
                    claims.drop(self.token)  # every row of it is settled
                    self.token, self.rows = claimed
                    self.result.claimed += len(self.rows)
            finally:
                for lane in self.lanes:
                    lane.close()
        return self.result

    def _send_rows(self, rows: list[Claimed]) -> bool:
        """True when every row was sent; False when the chunk ended early
        (stopped, paused, deferred, waiting: the rest is given back or skipped)."""
        check_every = settings.MAILINGS_CHECK_SECONDS
        i = 0
        while i < len(rows):
            if stop_requested():
                # The worker is stopping: what was sent is recorded, the rest is given back.
                self.flush()
                self.release(rows[i:])
                return False
            if time.monotonic() - self.last_check >= check_every:
                self.flush(heartbeat=True)
                self.last_check = time.monotonic()
                reason = self.should_stop()
                if reason == PAUSED:
                    self.pause(rows[i:])
                    return False
                if reason:
                    self.stop(reason, rows[i:])
                    return False
            if not self.within_limits(rows[i:]):
                return False
            row = rows[i]
            lane, opened = self.connected_lane(row, rows[i:])
            if lane is None:
                return False  # ending the round stopped the chunk
            if not opened.ok:
                if not self.connect_failed(row, opened, rows[i + 1 :]):
                    return False
                i += 1
                continue
            outcome = self.begin(lane, row)
            i += 1
            if outcome is None:
                self.loaded.append((lane, row))
                continue
            self.record(row, outcome)
            if outcome.fault == Fault.UNAVAILABLE:
                # The connection was lost and cannot be reopened.
                self.defer(outcome.reply, rows[i:])
                return False
            self.journal.send()
            if outcome.ok:
                self.connect_failures = 0
            if self.progress is not None:
                self.progress(1)
            if not self.keep_going(1, rows[i:]):
                return False
        return self.keep_going(self.fire(), [])

    def keep_going(self, done: int, rest: list[Claimed]) -> bool:
        """After `done` more messages: stop the run on too many errors in a row; flush now and then."""
        if self.errors_in_a_row >= settings.MAILINGS_MAX_ERRORS_IN_A_ROW:
            # A bug, not a recipient: stop the run and say why, rather than fail everyone.
            n = self.errors_in_a_row
            reason = ngettext(
                "Stopped: %(n)s message in a row failed with an error. The last one: %(error)s",
                "Stopped: %(n)s messages in a row failed with an error. The last one: %(error)s",
                n,
            )
            self.stop(reason % {"n": n, "error": self.last_error}, rest)
            return False
        if done and len(self.buffer) >= settings.MAILINGS_FLUSH_EVERY:
            self.flush()
        return True

    def connected_lane(self, row: Claimed, rest: list[Claimed]):
        """A connection for `row` and how opening it went, or (None, None)
        when ending the round stopped the chunk. A connection the server does
        not take while another one works is dropped for the rest of the turn:
        a server that limits connections per client is not a failure of this
        recipient."""
        while True:
            lane = self.lane_for(row)
            if lane is None:
                # Every connection has a message waiting for its final ".": end the round.
                if not self.keep_going(self.fire(rest), rest):
                    return None, None
                continue
            if lane.connected:
                return lane, Outcome(Fault.OK)
            opened = lane.open()
            if opened.ok or not any(other.connected for other in self.lanes if other is not lane):
                return lane, opened
            self.lanes.remove(lane)
            self.max_lanes = len(self.lanes)
            logger.info(
                "Run %s: the mail server took %s connections, not more: %s", self.run.pk, self.max_lanes, opened.reply
            )

    def lane_for(self, row: Claimed):
        """The connection to send `row` on: the one its envelope was announced
        on, a free one, or a new one; None when every connection has a message
        begun (the round must be ended first)."""
        busy = [lane for lane, _row in self.loaded]
        lane = self.announced.pop(row.id, None)
        if lane is not None and lane in self.lanes and lane not in busy:
            return lane
        reserved = list(self.announced.values())
        free = [lane for lane in self.lanes if lane not in busy]
        for lane in free:
            if lane not in reserved:
                return lane
        if len(self.lanes) < self.max_lanes and self.lanes[0].pipelining:
            self.lanes.append(get_transport())
            return self.lanes[-1]
        # An announcement that will not be followed: that connection starts afresh.
        return free[0] if free else None

    def begin(self, lane, row: Claimed) -> Outcome | None:
        """Build a message and send all of it but its final "." line (None), or
        its outcome if it ended before (without PIPELINING: all of it).
        Whatever goes wrong in doing so is this recipient's permanent failure
        with a readable reason, never an exception out of the chunk (the
        database's own errors excepted)."""
        try:
            address, smtputf8 = smtp_address(row.email)
        except ValueError as exc:
            return Outcome(Fault.PERMANENT, None, str(exc))
        key = f"r{self.run.pk}.d{row.id}"
        try:
            render = self.template.render if lane.wants_bytes else self.template.render_message
            payload = render(email=address, name=row.name, client_id=row.client_id, key=key)
            # Without PIPELINING, the previous attempt is on record before this message can be accepted.
            outcome = lane.begin(self.envelope_from, address, payload, before_data=self.ready, smtputf8=smtputf8)
        except DatabaseError:
            raise
        except Exception as exc:
            logger.exception("Run %s: the message to %s failed with an error", self.run.pk, row.email)
            return self.failed_with(lane, exc)
        self.errors_in_a_row = 0
        return outcome

    def fire(self, upcoming: list[Claimed] = ()) -> int:
        """End the round: once every earlier attempt is on record, the final
        "." line of each message begun, with the envelope of the message that
        connection sends next (`upcoming`, in order); then their replies,
        recorded and sent to the journal as one write. How many were ended."""
        if not self.loaded:
            return 0
        loaded, self.loaded = self.loaded, []
        try:
            self.ready()
        except BaseException:
            for lane, _row in loaded:
                lane.abandon()  # not accepted: the messages were not sent
            raise
        for k, (lane, _row) in enumerate(loaded):
            lane.end(self.announce(upcoming[k] if k < len(upcoming) else None, lane))
        for lane, row in loaded:
            try:
                outcome = lane.reply()
            except Exception as exc:
                logger.exception("Run %s: the message to %s failed with an error", self.run.pk, row.email)
                outcome = self.failed_with(lane, exc)
            self.record(row, outcome)
            if outcome.ok:
                self.connect_failures = 0
            if self.progress is not None:
                self.progress(1)
        self.journal.send()
        return len(loaded)

    def announce(self, row: Claimed | None, lane):
        """The envelope to announce for `row` on `lane` (None: nothing to announce)."""
        if row is None:
            return None
        try:
            address, smtputf8 = smtp_address(row.email)
        except ValueError:
            return None  # an address that cannot be sent is not announced
        self.announced[row.id] = lane
        return (self.envelope_from, address, smtputf8)

    def failed_with(self, lane, exc: Exception) -> Outcome:
        lane.close()  # the SMTP conversation may be half-way: start the next one afresh
        self.errors_in_a_row += 1
        self.last_error = _("error: %(error)s") % {"error": describe(exc)}
        return Outcome(Fault.PERMANENT, None, self.last_error)

    def connect_failed(self, row: Claimed, outcome: Outcome, rest: list[Claimed]) -> bool:
        """A connection could not be opened. Unreachable: defer the run. A 4xx
        greeting or a silent server: that message fails as temporary and we
        reconnect, until too many in a row defer the run. True to go on."""
        if outcome.fault == Fault.UNAVAILABLE:
            # Nothing was sent: the attempt records why, the row goes back untouched.
            self.record(row, outcome)
            self.buffer.pop()
            self.defer(outcome.reply, [row, *rest])
            return False
        self.record(row, outcome)
        self.connect_failures += 1
        if self.progress is not None:
            self.progress(1)
        if self.connect_failures >= settings.MAILINGS_MAX_CONNECT_FAILURES:
            self.defer(outcome.reply, rest)
            return False
        return True

    def defer(self, reason: str, rest: list[Claimed]) -> None:
        """The mail server is out of reach: record what was sent, give the rest back, defer the run."""
        self.flush()
        self.release(rest)
        self.result.deferred = True
        defer_run(self.run.pk, reason)

    def stop(self, reason: str, rest: list[Claimed]) -> None:
        self.flush()
        self.result.stopped = True
        if reason == "gone":
            return
        self.result.skipped += len(rest)
        stop_run(self.run.pk, reason, token=self.token)
