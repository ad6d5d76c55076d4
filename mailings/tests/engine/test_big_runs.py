"""A run's per-chunk and start-of-run work does not grow with the run: the
same queries for 20 recipients as for 400 (bench/million_clients.py measures
the time on a million)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailings import engine
from mailings.models import Client, Delivery, DeliveryState, Mailing, Message, Run

pytestmark = pytest.mark.django_db


def big_run(owner, n, *, unsubscribed=0):
    now = timezone.now()
    Client.objects.bulk_create(
        Client(owner=owner, email=f"big{i:04d}@example.org", unsubscribed_at=now if i < unsubscribed else None)
        for i in range(n)
    )
    message = Message.objects.create(owner=owner, subject="Big", body="Hello")
    mailing = Mailing.objects.create(owner=owner, message=message, start_at=now, end_at=now + timedelta(days=1))
    mailing.clients.set(Client.objects.filter(owner=owner))
    run = Run.objects.create(mailing=mailing, scheduled_for=now)
    engine.snapshot_recipients(run)
    return run


def queries(func, *args, **kwargs):
    with CaptureQueriesContext(connection) as ctx:
        func(*args, **kwargs)
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("n", [20, 400])
def test_a_claim_reads_the_same_queries_whatever_the_run_size(user, n):
    run = big_run(user, n)
    sql = queries(engine.claim, run.pk, 10)
    # retry-due ids, pending ids, the UPDATE, the rows read back
    assert len([s for s in sql if "delivery" in s.lower()]) == 4
    assert Delivery.objects.filter(run=run, state=DeliveryState.SENDING).count() == 10


def test_retry_due_rows_are_claimed_before_pending_ones_each_in_order(user):
    run = big_run(user, 30)
    ids = list(Delivery.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    Delivery.objects.filter(pk__in=ids[20:23]).update(state=DeliveryState.RETRY, next_try_at=now - timedelta(minutes=1))
    Delivery.objects.filter(pk=ids[25]).update(state=DeliveryState.RETRY, next_try_at=now + timedelta(hours=1))

    _token, rows = engine.claim(run.pk, 6, now=now)

    assert [r.id for r in rows] == sorted([*ids[:3], *ids[20:23]])
    _token, rows = engine.claim(run.pk, 4, now=now)
    assert [r.id for r in rows] == ids[3:7]


def start_run(owner, n, *, unsubscribed=0):
    now = timezone.now()
    Client.objects.bulk_create(
        Client(owner=owner, email=f"big{i:04d}@example.org", unsubscribed_at=now if i < unsubscribed else None)
        for i in range(n)
    )
    message = Message.objects.create(owner=owner, subject="Big", body="Hello")
    start = now - timedelta(minutes=1)
    mailing = Mailing.objects.create(
        owner=owner, message=message, start_at=start, end_at=now + timedelta(days=1), next_run_at=start
    )
    mailing.clients.set(Client.objects.filter(owner=owner))
    with CaptureQueriesContext(connection) as ctx:
        run = engine.start_due_run(mailing.pk, enqueue=False)
    return run, len(ctx.captured_queries)


def test_starting_a_run_is_a_fixed_number_of_queries_whatever_its_size(user, other_user):
    small, small_queries = start_run(user, 20)
    big, big_queries = start_run(other_user, 400)
    assert (small.recipients_count, big.recipients_count) == (20, 400)
    assert small_queries == big_queries


def test_suppressed_clients_are_skipped_with_their_reason(user):
    run, _queries = start_run(user, 20, unsubscribed=3)
    assert run.suppressed_count == 3
    skipped = Delivery.objects.filter(run=run, state=DeliveryState.SKIPPED).order_by("email")
    assert [d.email for d in skipped] == ["big0000@example.org", "big0001@example.org", "big0002@example.org"]
    assert all(d.last_reply for d in skipped)
