"""The "retry failed recipients" action on a finished run."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from mailings import engine
from mailings.models import Attempt, Delivery, DeliveryState, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(smtp_server, user):
    clients = [ClientFactory(owner=user, email=e) for e in ("a@example.org", "b@example.org", "c@example.org")]
    start = timezone.now() - timedelta(minutes=1)
    mailing = MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=1), clients=clients)
    fault = smtp_server.fault("rcpt_550", match=["b@example.org"])
    engine.replan_mailing(mailing)
    fault.times = 0  # the mailbox exists now
    run = Run.objects.get(mailing=mailing)
    assert (run.status, run.failed_count) == (RunStatus.FINISHED, 1)
    return run


def test_retry_resends_only_to_those_whose_last_attempt_failed(user_client, finished_run, smtp_server):
    url = reverse("mailings:run_retry_failed", args=[finished_run.pk])
    response = user_client.post(url, {"next": "/app/"})
    assert response.status_code == 302
    assert response["Location"] == "/app/"
    # a and c went out first, on the run's two connections at once; b with the retry.
    recipients = smtp_server.handler.recipients
    assert (sorted(recipients[:2]), recipients[2:]) == (["a@example.org", "c@example.org"], ["b@example.org"])
    finished_run.refresh_from_db()
    assert (finished_run.status, finished_run.sent_count, finished_run.failed_count) == (RunStatus.FINISHED, 3, 0)
    assert list(Attempt.objects.filter(email="b@example.org").order_by("pk").values_list("status", flat=True)) == [
        "failed",
        "success",
    ]
    assert set(Delivery.objects.filter(run=finished_run).values_list("state", flat=True)) == {DeliveryState.SENT}


def test_another_users_run_is_a_404(other_client, finished_run, smtp_server):
    response = other_client.post(reverse("mailings:run_retry_failed", args=[finished_run.pk]))
    assert response.status_code == 404
    assert len(smtp_server.messages) == 2


def test_a_superuser_posting_to_another_customers_run_gets_404(client, superuser, finished_run, smtp_server):
    """/app/ is the owner's workspace: a superuser acts on others' runs nowhere there."""
    client.force_login(superuser)
    response = client.post(reverse("mailings:run_retry_failed", args=[finished_run.pk]))
    assert response.status_code == 404
    assert len(smtp_server.messages) == 2
    finished_run.refresh_from_db()
    assert (finished_run.status, finished_run.failed_count) == (RunStatus.FINISHED, 1)


def test_retry_needs_post(user_client, finished_run):
    assert user_client.get(reverse("mailings:run_retry_failed", args=[finished_run.pk])).status_code == 405


def test_an_unsafe_next_goes_to_the_dashboard(user_client, finished_run):
    response = user_client.post(
        reverse("mailings:run_retry_failed", args=[finished_run.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("mailings:dashboard")


def test_the_button_shows_for_a_finished_run_with_failures(finished_run, user):
    request = RequestFactory().get("/app/mailings/1/")
    request.user = user
    html = render_to_string("mailings/includes/run_actions.html", {"run": finished_run}, request=request)
    assert reverse("mailings:run_retry_failed", args=[finished_run.pk]) in html
    assert "csrfmiddlewaretoken" in html
    assert "Retry 1 failed recipient" in html
    Run.objects.filter(pk=finished_run.pk).update(failed_count=0)
    finished_run.refresh_from_db()
    html = render_to_string("mailings/includes/run_actions.html", {"run": finished_run}, request=request)
    assert "retry-failed" not in html
