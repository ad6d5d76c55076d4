"""Every list page runs the same number of SQL queries with 5 rows as with 50."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mailings.models import Attempt, AttemptStatus, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


def fill(user, n):
    """n clients, messages and mailings; every mailing has a run; the first mailing has n runs and n attempts."""
    clients = ClientFactory.create_batch(n, owner=user)
    messages = MessageFactory.create_batch(n, owner=user)
    mailings = [MailingFactory(owner=user, message=m, clients=clients[:3]) for m in messages]
    now = timezone.now()
    runs = [
        Run(mailing=m, scheduled_for=m.start_at, status=RunStatus.FINISHED, sent_count=5, failed_count=1)
        for m in mailings
    ]
    runs += [
        Run(mailing=mailings[0], scheduled_for=now - timedelta(days=i + 1), sent_count=1, status=RunStatus.FINISHED)
        for i in range(n)
    ]
    Run.objects.bulk_create(runs)
    Attempt.objects.bulk_create(
        Attempt(
            mailing=mailings[0],
            run=runs[0],
            client=clients[i % len(clients)],
            email=f"a{i}@example.org",
            status=AttemptStatus.FAILED,
            server_reply="550 no such user",
        )
        for i in range(n)
    )
    return mailings[0]


PAGES = [
    ("dashboard", False),
    ("client_list", False),
    ("message_list", False),
    ("mailing_list", False),
    ("reports", False),
    ("mailing_detail", True),
    ("mailing_attempts", True),
]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("name", "needs_mailing"), PAGES, ids=[p[0] for p in PAGES])
def test_queries_do_not_grow_with_rows(client, name, needs_mailing):
    from accounts.tests.factories import UserFactory

    counts = []
    for n in (5, 50):
        user = UserFactory()
        first = fill(user, n)
        client.force_login(user)
        url = reverse(f"mailings:{name}", args=[first.pk] if needs_mailing else [])
        count_queries(client, url)  # warm per-process caches (content types, sessions)
        counts.append(count_queries(client, url))
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries with 5 rows, {counts[1]} with 50"
    assert counts[1] <= 12


def test_the_reports_rows_come_from_one_query(user, django_assert_num_queries):
    from mailings import selectors

    fill(user, 5)
    with django_assert_num_queries(1):
        rows = list(selectors.owned_mailings_with_stats(user))
    assert len(rows) == 5
    first = next(r for r in rows if r.runs_total == 6)
    assert (first.sent_total, first.failed_total, first.attempts_total) == (10, 1, 11)
    assert first.success_rate == pytest.approx(100 * 10 / 11)
    assert first.recipients_total == 3


def test_the_csv_exports_stream(user_client, user):
    first = fill(user, 5)
    for url in (
        reverse("mailings:client_export"),
        reverse("mailings:mailing_attempts_export", args=[first.pk]),
    ):
        response = user_client.get(url)
        assert response.streaming
        lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
        assert len(lines) == 6
