"""A selector for the mailing page's live progress: where the latest run
stands, its rate and when it should end.

A fixed number of queries whatever the run's size: the latest run, one
GROUP BY over its deliveries (an index-only scan of delivery_claimable), one
count of the last minute's attempts.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mailings.models import Attempt, Delivery, DeliveryState, Mailing, MailingStatus, Run, RunStatus

# The run statuses during which the page keeps polling.
LIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.SENDING, RunStatus.DEFERRED, RunStatus.PAUSED)
RATE_WINDOW = timedelta(seconds=60)
# A mailing due this soon is polled for, so its first run appears without a reload.
DUE_SOON = timedelta(minutes=2)

SEGMENTS = (
    ("sent", _("Sent")),
    ("failed", _("Failed")),
    ("retry", _("Waiting to retry")),
    ("waiting", _("Not yet sent")),
    ("skipped", _("Not sent")),
)


@dataclass
class Segment:
    key: str
    label: str
    count: int
    x: float = 0.0
    width: float = 0.0


@dataclass
class Progress:
    run: Run | None
    total: int = 0
    segments: list[Segment] = field(default_factory=list)
    done: int = 0
    percent: int = 0
    per_minute: float | None = None
    eta_at: datetime | None = None
    polling: bool = False
    # Claimed by a chunk right now: goes to 0 soon after a pause or a cancel.
    on_the_wire: int = 0

    @property
    def eta_soon(self) -> bool:
        return self.eta_at is not None and self.eta_at - timezone.now() < timedelta(minutes=1)

    def count(self, key: str) -> int:
        return next((s.count for s in self.segments if s.key == key), 0)


def _counts(run: Run) -> dict[str, int]:
    by_state = dict(Delivery.objects.filter(run=run).order_by().values_list("state").annotate(n=Count("pk")))
    return {
        "sending": by_state.get(DeliveryState.SENDING, 0),
        "sent": by_state.get(DeliveryState.SENT, 0),
        "failed": by_state.get(DeliveryState.FAILED, 0),
        "retry": by_state.get(DeliveryState.RETRY, 0),
        "waiting": by_state.get(DeliveryState.PENDING, 0) + by_state.get(DeliveryState.SENDING, 0),
        "skipped": by_state.get(DeliveryState.SKIPPED, 0),
    }


def mailing_progress(mailing: Mailing, runs, *, now: datetime | None = None) -> Progress:
    """The latest of `runs` (a queryset the caller scoped to the viewer) of `mailing`."""
    now = now or timezone.now()
    run = runs.filter(mailing=mailing).order_by("-started_at", "-id").first()
    due_soon = (
        mailing.is_active
        and mailing.status in (MailingStatus.CREATED, MailingStatus.RUNNING)
        and mailing.next_run_at is not None
        and mailing.next_run_at <= now + DUE_SOON
    )
    if run is None:
        return Progress(run=None, polling=due_soon)
    counts = _counts(run)
    on_the_wire = counts.pop("sending")
    total = sum(counts.values())
    # A stopped run is watched until its chunks have let go of what they held.
    polling = run.status in LIVE_RUN_STATUSES or due_soon or on_the_wire > 0
    progress = Progress(run=run, total=total, polling=polling, on_the_wire=on_the_wire)
    x = 0.0
    for key, label in SEGMENTS:
        width = 100.0 * counts[key] / total if total else 0.0
        progress.segments.append(Segment(key, str(label), counts[key], round(x, 3), round(width, 3)))
        x += width
    progress.done = counts["sent"] + counts["failed"] + counts["skipped"]
    progress.percent = int(100 * progress.done / total) if total else 100
    if run.status in (RunStatus.PENDING, RunStatus.SENDING):
        window = min(RATE_WINDOW, max(now - run.started_at, timedelta(seconds=1)))
        # Through attempt_mailing_time: a range scan of the last minute, not of the whole run.
        recent = Attempt.objects.filter(mailing_id=run.mailing_id, run=run, attempted_at__gte=now - window).count()
        progress.per_minute = recent * 60 / window.total_seconds()
        left = counts["waiting"] + counts["retry"]
        if progress.per_minute and left:
            progress.eta_at = now + timedelta(minutes=left / progress.per_minute)
    return progress
