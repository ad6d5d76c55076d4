"""Selectors for the charts: messages per day, success rate per run, a
mailing's runs over time. Each returns a `Chart`: what static/js/charts.js
draws with Chart.js, and the rows of the table that stands beside it for
screen readers and small screens. One query per chart, whatever the data.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from mailings.models import AttemptStatus, RunStatus

DAYS = 30
RECENT_RUNS = 20


@dataclass
class Series:
    key: str
    label: str
    values: list = field(default_factory=list)


@dataclass
class Chart:
    id: str
    title: str
    summary: str
    labels: list[str]
    series: list[Series]
    kind: str = "bar"
    stacked: bool = True
    percent: bool = False

    @property
    def empty(self) -> bool:
        return not any(any(s.values) for s in self.series)

    @property
    def rows(self):
        return [(label, *(s.values[i] for s in self.series)) for i, label in enumerate(self.labels)]

    def data(self) -> dict:
        """What charts.js reads (through json_script)."""
        return {
            "kind": self.kind,
            "stacked": self.stacked,
            "percent": self.percent,
            "labels": self.labels,
            "series": [{"key": s.key, "label": s.label, "values": s.values} for s in self.series],
        }


def _day_label(day: date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def daily_chart(attempts, *, days: int = DAYS, zone=None, chart_id: str = "chart-daily") -> Chart:
    """Messages sent and failed per day over the last `days` days (in `zone`), from attempts."""
    zone = zone or timezone.get_current_timezone()
    today = timezone.localtime(timezone.now(), zone).date()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()), zone)
    per_day = {
        row["day"]: row
        for row in attempts.filter(attempted_at__gte=since)
        .annotate(day=TruncDate("attempted_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(
            sent=Count("pk", filter=Q(status=AttemptStatus.SUCCESS)),
            failed=Count("pk", filter=Q(status=AttemptStatus.FAILED)),
        )
    }
    day_list = [first + timedelta(days=i) for i in range(days)]
    sent = [per_day.get(d, {}).get("sent", 0) for d in day_list]
    failed = [per_day.get(d, {}).get("failed", 0) for d in day_list]
    summary = _("Messages per day over the last %(days)s days: %(sent)s sent, %(failed)s failed attempts.") % {
        "days": days,
        "sent": sum(sent),
        "failed": sum(failed),
    }
    return Chart(
        id=chart_id,
        title=str(_("Messages per day, last %(days)s days") % {"days": days}),
        summary=str(summary),
        labels=[_day_label(d) for d in day_list],
        series=[Series("sent", str(_("Sent")), sent), Series("failed", str(_("Failed")), failed)],
    )


def _run_label(run) -> str:
    return formats.date_format(timezone.localtime(run.started_at), "SHORT_DATETIME_FORMAT")


def run_rates_chart(runs, *, limit: int = RECENT_RUNS) -> Chart:
    """The success rate of each of the latest runs that sent something."""
    recent = list(
        runs.filter(Q(sent_count__gt=0) | Q(failed_count__gt=0))
        .exclude(status__in=(RunStatus.PENDING,))
        .order_by("-started_at", "-id")
        .values("pk", "mailing_id", "started_at", "sent_count", "failed_count")[:limit]
    )[::-1]
    labels, rates = [], []
    for row in recent:
        labels.append(
            f"#{row['mailing_id']} · {formats.date_format(timezone.localtime(row['started_at']), 'SHORT_DATE_FORMAT')}"
        )
        rates.append(round(100.0 * row["sent_count"] / (row["sent_count"] + row["failed_count"]), 1))
    average = round(sum(rates) / len(rates), 1) if rates else None
    summary = _("No runs have sent anything yet.")
    if rates:
        summary = _("Success rate of the latest %(count)s runs; average %(average)s %%.") % {
            "count": len(rates),
            "average": average,
        }
    return Chart(
        id="chart-run-rates",
        title=str(_("Success rate of recent runs")),
        summary=str(summary),
        labels=labels,
        series=[Series("rate", str(_("Success rate, %")), rates)],
        stacked=False,
        percent=True,
    )


def mailing_runs_chart(runs, *, limit: int = 30) -> Chart:
    """A mailing's runs over time: sent and failed in each."""
    recent = list(runs.order_by("-started_at", "-id").only("started_at", "sent_count", "failed_count")[:limit])[::-1]
    sent = [run.sent_count for run in recent]
    failed = [run.failed_count for run in recent]
    summary = _("The latest %(count)s runs of this mailing: %(sent)s sent, %(failed)s failed.") % {
        "count": len(recent),
        "sent": sum(sent),
        "failed": sum(failed),
    }
    return Chart(
        id="chart-mailing-runs",
        title=str(_("Runs over time")),
        summary=str(summary),
        labels=[_run_label(run) for run in recent],
        series=[Series("sent", str(_("Sent")), sent), Series("failed", str(_("Failed")), failed)],
    )
