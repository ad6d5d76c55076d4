"""The charts: their data from one query each, their table alternative, and
the pages that show them (Chart.js from our static files, no inline script)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailings import charts, selectors
from mailings.models import Attempt, AttemptStatus, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


def attempts(mailing, run, client, *, days_ago, sent, failed):
    """Attempts without a client (one success per client and run is the rule)."""
    at = timezone.now() - timedelta(days=days_ago)
    rows = [(AttemptStatus.SUCCESS, sent), (AttemptStatus.FAILED, failed)]
    Attempt.objects.bulk_create(
        Attempt(mailing=mailing, run=run, client=None, email=client.email, status=status, attempted_at=at)
        for status, n in rows
        for _ in range(n)
    )


@pytest.fixture
def history(user):
    mailing = MailingFactory(owner=user)
    client = ClientFactory(owner=user)
    runs = Run.objects.bulk_create(
        Run(
            mailing=mailing,
            scheduled_for=timezone.now() - timedelta(days=d),
            started_at=timezone.now() - timedelta(days=d),
            status=RunStatus.FINISHED,
            sent_count=sent,
            failed_count=failed,
        )
        for d, sent, failed in ((3, 8, 2), (1, 9, 1), (0, 0, 0))
    )
    attempts(mailing, runs[0], client, days_ago=3, sent=8, failed=2)
    attempts(mailing, runs[1], client, days_ago=1, sent=9, failed=1)
    attempts(mailing, runs[1], client, days_ago=45, sent=5, failed=5)  # older than 30 days
    return mailing


def test_daily_chart_counts_the_last_30_days_in_one_query(user, history, django_assert_num_queries):
    owned = selectors.owned_attempts(user)  # guardian looks the permission up here
    with django_assert_num_queries(1):
        chart = charts.daily_chart(owned)
    assert len(chart.labels) == 30
    sent, failed = chart.series
    assert (sum(sent.values), sum(failed.values)) == (17, 3)
    assert sent.values[-2] == 9  # yesterday
    assert sent.values[-4] == 8
    assert "17 sent, 3 failed" in chart.summary
    assert chart.rows[-2] == (chart.labels[-2], 9, 1)


def test_run_rates_chart_skips_runs_that_sent_nothing(user, history):
    chart = charts.run_rates_chart(selectors.owned_runs(user))
    assert chart.series[0].values == [80.0, 90.0]
    assert chart.percent
    assert "average 85.0 %" in chart.summary


def test_reports_page_draws_the_charts_with_a_table_alternative(user_client, history):
    html = user_client.get(reverse("mailings:reports")).content.decode()
    assert 'data-chart="chart-daily-data"' in html
    assert 'id="chart-daily-data" type="application/json"' in html
    assert 'data-chart="chart-run-rates-data"' in html
    assert "Show as a table" in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/js/charts.js" in html
    assert "<script>" not in html


def test_mailing_page_charts_its_runs(user_client, history):
    html = user_client.get(reverse("mailings:mailing_detail", args=[history.pk])).content.decode()
    assert 'data-chart="chart-mailing-runs-data"' in html
    assert "The latest 3 runs of this mailing: 17 sent, 3 failed." in html


def test_no_data_says_so_instead_of_an_empty_chart(user_client):
    html = user_client.get(reverse("mailings:reports")).content.decode()
    assert "Nothing to show yet." in html
    assert "data-chart=" not in html


def test_the_vendored_chart_library_has_no_dangling_source_map():
    from django.conf import settings

    for path in (
        settings.BASE_DIR / "static/vendor/chartjs/chart.umd.min.js",
        settings.BASE_DIR / "static/vendor/htmx/htmx.min.js",
    ):
        assert "sourceMappingURL" not in path.read_text()
