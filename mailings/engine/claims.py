"""Claims: which chunk may send which delivery.

A chunk claims up to MAILINGS_CHUNK_SIZE deliveries with one conditional
UPDATE (on PostgreSQL behind SELECT ... FOR UPDATE SKIP LOCKED) that stamps
them with its own token; a delivery is sent only by the chunk holding its
token. Before sending, the journal wins: a success already on record is never
sent again.

A claim lives while its worker process lives: `keep` hands the token to a
heartbeat thread that refreshes the claim's `claimed_at` every
MAILINGS_HEARTBEAT_SECONDS, whatever the chunk is doing (a message may wait
on a slow server for several EMAIL_TIMEOUTs). A claim not refreshed for
MAILINGS_CLAIM_STALE_SECONDS (three heartbeats) belongs to a dead process and
the sweeper takes it back.
"""

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from mailings.models import Attempt, AttemptStatus, Delivery, DeliveryState


def claimable(now: datetime) -> Q:
    return Q(state=DeliveryState.PENDING) | Q(state=DeliveryState.RETRY, next_try_at__lte=now)


@dataclass(slots=True)
class Claimed:
    id: int
    client_id: int | None
    email: str
    tries: int
    name: str


def _claimable_ids(run_id: int, size: int, now: datetime) -> list[int]:
    """Retry-due rows first (oldest due first), then pending ones. Each is
    one range of the delivery_claimable index (run, state, next_try_at) read
    in its order, so a claim reads about `size` index entries however large
    the run; one query with "pending OR retry-due ORDER BY pk" sorted every
    pending row of the run (0.4 s a claim in a million-recipient run).
    Pending rows come in index order: by id on SQLite, by position in the
    table on PostgreSQL, which is id order for a run's snapshot."""
    qs = Delivery.objects.filter(run_id=run_id)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    retry = qs.filter(state=DeliveryState.RETRY, next_try_at__lte=now).order_by("run_id", "state", "next_try_at")
    ids = list(retry.values_list("pk", flat=True)[:size])
    if len(ids) < size:
        pending = qs.filter(state=DeliveryState.PENDING).order_by("run_id", "state", "next_try_at")
        ids += pending.values_list("pk", flat=True)[: size - len(ids)]
    return ids


def claim(run_id: int, size: int, *, now: datetime | None = None) -> tuple[str, list[Claimed]]:
    """Take up to `size` claimable deliveries of a run for this chunk.

    Portable: the UPDATE only takes rows still pending/retry-due, and the rows
    are read back by the new token, so two chunks never hold the same row. On
    PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent chunks take disjoint
    rows without waiting for each other."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        ids = _claimable_ids(run_id, size, now)
        if not ids:
            return token, []
        Delivery.objects.filter(pk__in=ids).filter(claimable(now)).update(
            state=DeliveryState.SENDING, claim_token=token, claimed_at=now
        )
    # The journal wins: a success already on record is never sent again.
    on_record = Attempt.objects.filter(run_id=run_id, client_id=OuterRef("client_id"), status=AttemptStatus.SUCCESS)
    rows, settled = [], []
    for *fields, done in (
        Delivery.objects.filter(pk__in=ids, claim_token=token, state=DeliveryState.SENDING)
        .annotate(done=Exists(on_record))
        .order_by("pk")
        .values_list("pk", "client_id", "email", "tries", "client__full_name", "done")
    ):
        (settled if done else rows).append(Claimed(*fields))
    if settled:
        Delivery.objects.filter(pk__in=[r.id for r in settled]).update(state=DeliveryState.SENT, claim_token="")
    return token, rows


# --- heartbeats -------------------------------------------------------------------------------

logger = logging.getLogger(__name__)
_held: dict[str, int] = {}  # token -> run id, the claims this process holds
_lock = threading.Lock()
_beating: threading.Thread | None = None

# On PostgreSQL the heartbeat skips rows the chunk itself has locked in a batch
# write (they are being settled right now): it never waits on, nor deadlocks with, its own chunk.
_REFRESH_SQL = (
    "UPDATE {table} SET claimed_at = %s WHERE id IN (SELECT id FROM {table} "
    "WHERE run_id = %s AND state = %s AND claim_token = %s FOR UPDATE SKIP LOCKED)"
)


def keep(run_id: int, token: str) -> None:
    """Keep this claim alive from a heartbeat thread until `drop` (or until it holds no row)."""
    global _beating  # noqa: PLW0603 - one heartbeat thread per process
    with _lock:
        _held[token] = run_id
        if _beating is None or not _beating.is_alive():
            _beating = threading.Thread(target=_beat_forever, name="claim-heartbeat", daemon=True)
            _beating.start()


def drop(token: str | None = None) -> None:
    """Stop refreshing a claim (every claim of this process when None)."""
    with _lock:
        if token is None:
            _held.clear()
        else:
            _held.pop(token, None)


def refresh(now: datetime | None = None) -> int:
    """One heartbeat: refresh the claims this process holds; forget those with no row left."""
    now = now or timezone.now()
    with _lock:
        held = dict(_held)
    refreshed = 0
    table = connection.ops.quote_name(Delivery._meta.db_table)
    for token, run_id in held.items():
        rows = Delivery.objects.filter(run_id=run_id, state=DeliveryState.SENDING, claim_token=token)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    _REFRESH_SQL.format(table=table),
                    [now, run_id, DeliveryState.SENDING, token],
                )
                count = cursor.rowcount
        else:
            count = rows.update(claimed_at=now)
        refreshed += count
        if not count and not rows.exists():
            drop(token)
    return refreshed


def _beat_forever() -> None:
    stop = threading.Event()
    while not stop.wait(settings.MAILINGS_HEARTBEAT_SECONDS):
        try:
            refresh()
        except (DatabaseError, InterfaceError):
            # The next beat tries again on a fresh connection; three missed beats lose the claim.
            logger.warning("Claim heartbeat failed", exc_info=True)
            connection.close()
