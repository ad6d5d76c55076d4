"""Runs and attempts (read-only, filters, cursor pages) and the reports totals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailings import selectors
from mailings.models import Attempt, AttemptStatus, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(user, other_user):
    now = timezone.now()
    mailing = MailingFactory(owner=user)
    client = ClientFactory(owner=user)
    old = Run.objects.create(
        mailing=mailing, scheduled_for=now - timedelta(days=2), started_at=now - timedelta(days=2), sent_count=2
    )
    new = Run.objects.create(
        mailing=mailing, scheduled_for=now, started_at=now, status=RunStatus.FINISHED, sent_count=1, failed_count=1
    )
    attempts = [
        Attempt.objects.create(
            mailing=mailing,
            run=run,
            client=client,
            email=client.email,
            status=status,
            attempted_at=at,
            smtp_code=code,
            server_reply=f"{code} reply",
        )
        for run, status, at, code in [
            (old, AttemptStatus.SUCCESS, now - timedelta(days=2), 250),
            (new, AttemptStatus.SUCCESS, now - timedelta(minutes=5), 250),
            (new, AttemptStatus.FAILED, now - timedelta(minutes=1), 550),
        ]
    ]
    theirs = MailingFactory(owner=other_user)
    their_run = Run.objects.create(mailing=theirs, scheduled_for=now, sent_count=5)
    their_attempt = Attempt.objects.create(
        mailing=theirs, run=their_run, email="x@example.org", status=AttemptStatus.SUCCESS
    )
    return {
        "mailing": mailing,
        "old": old,
        "new": new,
        "attempts": attempts,
        "their_run": their_run,
        "their_attempt": their_attempt,
    }


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_runs_newest_first_and_filtered(api, history):
    assert ids(api.get("/api/v1/runs/")) == [history["new"].pk, history["old"].pk]
    assert ids(api.get("/api/v1/runs/", {"status": "finished"})) == [history["new"].pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get("/api/v1/runs/", {"started_after": since})) == [history["new"].pk]
    assert ids(api.get("/api/v1/runs/", {"started_before": since})) == [history["old"].pk]
    assert ids(api.get("/api/v1/runs/", {"mailing": history["mailing"].pk})) == [history["new"].pk, history["old"].pk]
    run = api.get(f"/api/v1/runs/{history['new'].pk}/").json()
    assert (run["sent_count"], run["failed_count"], run["status"]) == (1, 1, "finished")


def test_attempts_filtered_by_status_time_and_run(api, history):
    a = history["attempts"]
    assert ids(api.get("/api/v1/attempts/")) == [a[2].pk, a[1].pk, a[0].pk]
    assert ids(api.get("/api/v1/attempts/", {"status": "failed"})) == [a[2].pk]
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert ids(api.get("/api/v1/attempts/", {"since": since})) == [a[2].pk, a[1].pk]
    until = (timezone.now() - timedelta(minutes=3)).isoformat()
    assert ids(api.get("/api/v1/attempts/", {"until": until})) == [a[1].pk, a[0].pk]
    assert ids(api.get("/api/v1/attempts/", {"run": history["old"].pk})) == [a[0].pk]
    failed = api.get(f"/api/v1/attempts/{a[2].pk}/").json()
    assert (failed["smtp_code"], failed["server_reply"]) == (550, "550 reply")


def test_attempts_cursor_pages(api, history):
    page = api.get("/api/v1/attempts/", {"page_size": 1}).json()
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert seen == [a.pk for a in reversed(history["attempts"])]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nope"},
        {"since": "yesterday"},
        {"mailing": "abc"},
        {"mailing": "99999999999999999999999"},
        {"run": "-1"},
    ],
)
def test_bad_filters_are_400(api, history, params):
    response = api.get("/api/v1/attempts/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_others_runs_and_attempts_are_404(api, history):
    assert history["their_run"].pk not in ids(api.get("/api/v1/runs/"))
    assert api.get(f"/api/v1/runs/{history['their_run'].pk}/").status_code == 404
    assert api.get(f"/api/v1/attempts/{history['their_attempt'].pk}/").status_code == 404
    assert ids(api.get("/api/v1/attempts/", {"mailing": history["their_run"].mailing_id})) == []


def test_report_totals_are_the_reports_page_numbers(api, user, history):
    body = api.get("/api/v1/reports/").json()
    assert body == selectors.report_totals(user)
    assert (body["runs"], body["sent"], body["failed"], body["attempts"]) == (2, 3, 1, 4)
    assert body["success_rate"] == 75.0


def test_managers_see_every_run_and_all_totals(manager_api, history):
    assert set(ids(manager_api.get("/api/v1/runs/"))) == {
        history["new"].pk,
        history["old"].pk,
        history["their_run"].pk,
    }
    assert manager_api.get("/api/v1/reports/").json()["sent"] == 8
