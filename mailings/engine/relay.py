"""A chunk task: take a turn at a run (engine.turns), then pass the baton.

A run keeps about one chunk task per live worker in flight (engine.fleet):
a turn that ends with work left behind enqueues its successor at the back of
the broker's queue, where the first idle worker of any cluster takes it. So
chunks are claimed late, when a worker is free to send them, and a cluster
that joins mid-run gets its share."""

from django.utils import timezone

from mailings.engine import claims, fleet, wakeup
from mailings.engine.chunks import ChunkResult
from mailings.engine.turns import send_chunk as send_one_chunk
from mailings.models import Delivery, Run, RunStatus


def send_chunk(run_id: int, *, size: int | None = None, progress=None, transport=None) -> ChunkResult:
    """Claim one chunk of a run and send it; then enqueue the next chunk if
    the run has work left. Safe to call any number of times."""
    try:
        result = send_one_chunk(run_id, size=size, progress=progress, transport=transport)
    finally:
        claims.drop()  # a worker runs one chunk at a time: what it held is settled or given back
    if result.claimed and not (result.stopped or result.deferred or result.paused or result.waiting):
        pass_on(run_id)
    return result


def pass_on(run_id: int) -> bool:
    """Enqueue the run's next chunk if it is still sending and has claimable work."""
    if fleet.inline():
        return False  # enqueue would run it right here, recursively; the caller loops instead
    if not Run.objects.filter(pk=run_id, status__in=(RunStatus.PENDING, RunStatus.SENDING)).exists():
        return False
    if not Delivery.objects.filter(run_id=run_id).filter(claims.claimable(timezone.now())).exists():
        return False
    return wakeup.enqueue("mailings.tasks.send_chunk", run_id, group=f"mailings-run-{run_id}") is not None
