"""The customer's mailing detail page, the attempt log and its export, reports,
the dashboard and the navigation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailings.models import Attempt, AttemptStatus, MailingStatus, Periodicity, Run, RunStatus
from mailings.services import mailing_disable
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(user):
    client = ClientFactory(owner=user, email="ann@example.org")
    mailing = MailingFactory(owner=user, clients=[client], periodicity=Periodicity.DAILY)
    now = timezone.now()
    old = Run.objects.create(
        mailing=mailing,
        scheduled_for=now - timedelta(days=1),
        started_at=now - timedelta(days=1),
        finished_at=now - timedelta(days=1),
        status=RunStatus.FINISHED,
        recipients_count=4,
        sent_count=3,
        failed_count=1,
    )
    new = Run.objects.create(
        mailing=mailing, scheduled_for=now, started_at=now, status=RunStatus.DEFERRED, recipients_count=4, sent_count=1
    )
    Attempt.objects.create(
        mailing=mailing, run=old, client=client, email=client.email, status=AttemptStatus.SUCCESS,
        smtp_code=250, server_reply="2.0.0 Ok: queued as 12345",
    )  # fmt: skip
    Attempt.objects.create(
        mailing=mailing, run=old, client=None, email="gone@example.org", status=AttemptStatus.FAILED,
        smtp_code=550, server_reply="5.1.1 <gone@example.org>: Recipient address rejected",
    )  # fmt: skip
    return mailing, old, new


def test_detail_shows_settings_runs_totals_and_replies(user_client, history):
    mailing, _old, _new = history
    response = user_client.get(reverse("mailings:mailing_detail", args=[mailing.pk]))
    assert response.context["totals"] == {"runs": 2, "sent": 4, "failed": 1, "suppressed": 0, "success_rate": 80.0}
    content = response.content.decode()
    assert "Daily" in content
    assert "80.0" in content
    assert "Recipient address rejected" in content
    assert "queued as 12345" in content
    assert len(response.context["runs_page"]) == 2
    assert reverse("mailings:mailing_attempts", args=[mailing.pk]) in content
    assert 'data-testid="disabled-notice"' not in content
    assert 'data-testid="deferred-notice"' not in content


def test_detail_tells_when_and_why_a_manager_disabled_it(user_client, history, manager):
    mailing = history[0]
    mailing_disable(mailing=mailing, by=manager, reason="Complaints about spam")
    content = user_client.get(reverse("mailings:mailing_detail", args=[mailing.pk])).content.decode()
    assert "disabled by a manager" in content
    assert manager.email in content
    assert "Complaints about spam" in content


def test_detail_tells_when_delivery_is_deferred(user_client, history):
    mailing, _old, new = history
    new.deferred_since = timezone.now() - timedelta(minutes=10)
    new.save()
    content = user_client.get(reverse("mailings:mailing_detail", args=[mailing.pk])).content.decode()
    assert "Delivery deferred: mail server unavailable since" in content


def test_attempt_log_filters_by_status_and_exports(user_client, history):
    mailing = history[0]
    url = reverse("mailings:mailing_attempts", args=[mailing.pk])
    assert response_emails(user_client.get(url)) == {"ann@example.org", "gone@example.org"}
    assert response_emails(user_client.get(url, {"status": "failed"})) == {"gone@example.org"}
    assert response_emails(user_client.get(url, {"status": "bogus"})) == {"ann@example.org", "gone@example.org"}

    export = user_client.get(reverse("mailings:mailing_attempts_export", args=[mailing.pk]), {"status": "success"})
    assert export.streaming
    assert f"mailing-{mailing.pk}-attempts-success.csv" in export["Content-Disposition"]
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "time,email,status,temporary,smtp_code,server_reply,run"
    assert len(lines) == 2
    assert "ann@example.org,success,False,250,2.0.0 Ok: queued as 12345" in lines[1]


def response_emails(response):
    return {a.email for a in response.context["page_obj"]}


def test_reports_and_dashboard_count_from_run_counters(user_client, user, history):
    mailing = history[0]
    MailingFactory(owner=user, status=MailingStatus.COMPLETED)
    long_ago = MailingFactory(owner=user)
    Run.objects.create(
        mailing=long_ago,
        scheduled_for=timezone.now() - timedelta(days=60),
        started_at=timezone.now() - timedelta(days=60),
        sent_count=100,
        failed_count=50,
    )
    report = user_client.get(reverse("mailings:reports"))
    rows = {m.pk: m for m in report.context["page_obj"]}
    row = rows[mailing.pk]
    assert (row.runs_total, row.attempts_total, row.sent_total, row.failed_total) == (2, 5, 4, 1)
    assert row.last_run_at is not None
    assert report.context["totals"]["runs"] == 3
    assert report.context["totals"]["attempts"] == 155

    dashboard = user_client.get(reverse("mailings:dashboard")).context
    assert dashboard["mailings_count"] == 3
    assert dict(dashboard["mailings_by_status"]) == {
        "Created": 2,
        "Running": 0,
        "Paused": 0,
        "Completed": 1,
        "Cancelled": 0,
    }
    # The run of 60 days ago is outside the last 30 days.
    assert (dashboard["sent_recent"], dashboard["failed_recent"]) == (4, 1)


def test_the_navigation_has_the_customer_links(user_client):
    content = user_client.get(reverse("mailings:dashboard")).content.decode()
    for name in ("dashboard", "client_list", "message_list", "mailing_list", "reports"):
        assert f'href="{reverse("mailings:" + name)}"' in content
