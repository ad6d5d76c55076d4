"""The mailing page's live progress fragment: what it shows, when it polls, and
a fixed number of queries per poll whatever the run's size."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mailings.models import Attempt, AttemptStatus, Client, Delivery, DeliveryState, MailingStatus, Run, RunStatus
from mailings.tests.factories import MailingFactory

pytestmark = pytest.mark.django_db


def running_mailing(owner, n, *, sent=0, failed=0, retry=0, status=RunStatus.SENDING):
    """A mailing with a run of n recipients, created in bulk: sent, failed, retry, the rest pending."""
    clients = Client.objects.bulk_create(Client(owner=owner, email=f"r{i:05d}@example.org") for i in range(n))
    mailing = MailingFactory(owner=owner, start_at=timezone.now() - timedelta(minutes=5))
    mailing.status = MailingStatus.RUNNING
    mailing.save(update_fields=["status"])
    run = Run.objects.create(
        mailing=mailing,
        scheduled_for=mailing.start_at,
        status=status,
        recipients_count=n,
        started_at=timezone.now() - timedelta(seconds=30),
    )
    states = [DeliveryState.SENT] * sent + [DeliveryState.FAILED] * failed + [DeliveryState.RETRY] * retry
    states += [DeliveryState.PENDING] * (n - len(states))
    Delivery.objects.bulk_create(
        Delivery(run=run, client=c, email=c.email, state=state) for c, state in zip(clients, states, strict=True)
    )
    now = timezone.now()
    Attempt.objects.bulk_create(
        Attempt(
            mailing=mailing,
            run=run,
            client=c,
            email=c.email,
            status=AttemptStatus.SUCCESS,
            attempted_at=now - timedelta(seconds=i % 30),
        )
        for i, c in enumerate(clients[:sent])
    )
    return mailing, run


def fragment(client, mailing):
    return client.get(reverse("mailings:mailing_progress", args=[mailing.pk]))


def test_the_fragment_shows_the_parts_rate_and_eta(user_client, user):
    # A frozen clock: the run started exactly 30 s before the poll.
    with time_machine.travel(timezone.now(), tick=False):
        mailing, _run = running_mailing(user, 100, sent=30, failed=5, retry=5)
        response = fragment(user_client, mailing)
    html = response.content.decode()
    progress = response.context["progress"]
    assert (progress.count("sent"), progress.count("failed"), progress.count("retry"), progress.count("waiting")) == (
        30,
        5,
        5,
        60,
    )
    assert progress.percent == 35
    # 30 messages in the last 30 seconds: 60 per minute, 65 left: about a minute more.
    assert progress.per_minute == 60
    assert progress.eta_at - progress.run.started_at == timedelta(seconds=30 + 65)
    assert 'hx-trigger="every 2s"' in html
    assert 'data-percent="35"' in html
    assert "60 messages per minute" in html
    assert "Waiting to retry: <span" in html


def test_polling_stops_when_the_run_is_over(user_client, user):
    mailing, _run = running_mailing(user, 10, sent=10, status=RunStatus.FINISHED)
    mailing.status = MailingStatus.COMPLETED
    mailing.save(update_fields=["status"])
    response = fragment(user_client, mailing)
    assert response.context["progress"].percent == 100
    assert "hx-get" not in response.content.decode()
    assert "This run is over." in response.content.decode()


def test_a_mailing_due_now_is_polled_until_its_first_run_appears(user_client, user):
    mailing = MailingFactory(owner=user, start_at=timezone.now())
    mailing.next_run_at = mailing.start_at
    mailing.save(update_fields=["next_run_at"])
    html = fragment(user_client, mailing).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "The first run starts in a moment." in html


def test_the_mailing_page_loads_htmx_from_our_static_files_without_inline_script(user_client, user):
    mailing, _run = running_mailing(user, 5, sent=1)
    html = user_client.get(reverse("mailings:mailing_detail", args=[mailing.pk])).content.decode()
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert '"includeIndicatorStyles": false' in html
    assert 'id="run-progress"' in html
    assert "<script>" not in html
    assert " onclick=" not in html


def test_another_users_progress_is_a_404(other_client, user):
    mailing, _run = running_mailing(user, 3)
    assert fragment(other_client, mailing).status_code == 404


def count_queries(client, mailing):
    fragment(client, mailing)  # warm per-process caches (content types, the session)
    with CaptureQueriesContext(connection) as ctx:
        response = fragment(client, mailing)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_a_poll_costs_the_same_queries_at_100_and_at_10000_recipients(client):
    from accounts.tests.factories import UserFactory

    counts = []
    for n in (100, 10_000):
        owner = UserFactory()
        mailing, _run = running_mailing(owner, n, sent=n // 4, failed=n // 20, retry=n // 20)
        client.force_login(owner)
        counts.append(count_queries(client, mailing))
    assert counts[0] == counts[1], f"{counts[0]} queries at 100 recipients, {counts[1]} at 10,000"
    assert counts[1] <= 10
