"""A chunk task's turn at a run: claim a chunk, send it, and claim again.

A turn keeps its SMTP connections, one journal connection and one built
template for up to MAILINGS_TURN_SECONDS, claiming MAILINGS_CHUNK_SIZE
deliveries at a time. Claims stay small (a cluster that joins mid-run, or the
survivor of a killed one, finds work within a chunk), while what a chunk task
costs to start (the run and its message read, two connections opened, the
Markdown built) is paid once a turn, not once a chunk: about a quarter of
the time per message with chunks of 100. Between claims the turn checks that
the run is still wanted, as it does between messages.
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from mailings.engine import claims, fleet
from mailings.engine.chunks import PAUSED, ChunkResult, ChunkSender
from mailings.engine.claims import claim
from mailings.engine.runs import finalize_run, stop_reason_for, stop_run
from mailings.engine.schedule import is_runnable
from mailings.engine.stopping import stop_requested
from mailings.engine.transport import describe
from mailings.models import Run, RunStatus

logger = logging.getLogger(__name__)


def _hold(run_id: int, token: str) -> None:
    if not fleet.inline():
        claims.keep(run_id, token)  # heartbeats while this process lives (engine.relay drops it)


def send_chunk(
    run_id: int, *, size: int | None = None, progress=None, transport=None, turn_seconds: float | None = None
) -> ChunkResult:
    """Claim a chunk of a run and send it, then more chunks until the turn
    (MAILINGS_TURN_SECONDS, or `turn_seconds`; 0: one chunk) is used up.
    Safe to call any number of times: with nothing left to claim it just
    checks whether the run is finished."""
    result = ChunkResult(run_id=run_id)
    run = Run.objects.select_related("mailing__message", "mailing__owner").filter(pk=run_id).first()
    if run is None:
        return result
    now = timezone.now()
    if run.status not in (RunStatus.PENDING, RunStatus.SENDING):
        # Stopped, finished, or deferred and not yet due: leave the server alone.
        return result
    if not is_runnable(run.mailing):
        stop_run(run_id, stop_reason_for(run.mailing))
        result.stopped = True
        return result
    size = size or settings.MAILINGS_CHUNK_SIZE
    token, rows = claim(run_id, size, now=now)
    if not rows:
        finalize_run(run_id)
        return result
    _hold(run_id, token)
    sending = Case(When(status=RunStatus.PENDING, then=Value(RunStatus.SENDING)), default=F("status"))
    Run.objects.filter(pk=run_id).update(status=sending, heartbeat_at=now)
    try:
        sender = ChunkSender(run, token, rows, transport=transport, progress=progress)
    except DatabaseError:
        raise
    except Exception as exc:
        # The message itself cannot be built (a bug, or data no form lets in): retrying will not help.
        logger.exception("Run %s cannot be sent", run_id)
        stop_run(run_id, _("Stopped by an error: %(error)s") % {"error": describe(exc)}, token=token)
        result.stopped = True
        return result
    turn = settings.MAILINGS_TURN_SECONDS if turn_seconds is None else turn_seconds
    ends = time.monotonic() + turn

    def more():
        """The next chunk of this turn, or None: the turn is over, the worker
        is stopping, the run is no longer wanted, or nothing is left."""
        if time.monotonic() >= ends or stop_requested():
            return None
        reason = sender.should_stop()
        if reason == PAUSED:
            sender.result.paused = True
            return None
        if reason:
            sender.stop(reason, [])
            return None
        next_token, next_rows = claim(run_id, size)
        if not next_rows:
            return None
        _hold(run_id, next_token)
        return next_token, next_rows

    result = sender.send_all(more)
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
