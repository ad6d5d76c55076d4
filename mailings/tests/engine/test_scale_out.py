"""Scale-out (engine/fleet.py, relay.py, claims.py heartbeats, sweeper.sweep):
a run keeps about one chunk task per worker in flight and passes the baton on;
a live worker's claims are refreshed, a dead one's taken back by the sweep.
The clusters themselves: mailings/tests/test_service_clusters.py."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from mailings import engine
from mailings.models import Delivery, DeliveryState, Mailing, Run, RunStatus
from mailings.tests.engine.helpers import make_mailing


class Queue:
    def __init__(self):
        self.broker = get_broker()  # the ORM broker, or Redis with REDIS_URL

    def count(self):
        return self.broker.queue_size()


@pytest.fixture
def broker_queue(monkeypatch):
    """Tasks go to the broker instead of running here: we count them."""
    monkeypatch.setattr(Conf, "SYNC", False)
    queue = Queue()
    queue.broker.purge_queue()
    yield queue
    queue.broker.purge_queue()


def started_run(user, n, *, enqueue=False):
    mailing, _clients = make_mailing(user, n=n)
    Mailing.objects.filter(pk=mailing.pk).update(next_run_at=mailing.start_at)
    return engine.start_due_run(mailing.pk, enqueue=enqueue)


@pytest.mark.django_db
def test_a_run_starts_a_few_chunk_tasks_and_each_chunk_passes_the_baton_on(smtp_server, user, settings, broker_queue):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_TURN_SECONDS = 0  # a chunk a task, to see each baton pass
    settings.MAILINGS_FAN_OUT = 3  # no cluster reports its workers here
    run = started_run(user, n=9, enqueue=True)  # five chunks
    assert broker_queue.count() == 3  # not five: the rest is claimed late, by whoever is free

    for sent in (2, 4, 6, 8):
        result = engine.send_chunk(run.pk)
        assert (result.claimed, result.sent) == (2, 2)
        assert Run.objects.get(pk=run.pk).sent_count == sent
        assert broker_queue.count() == 3 + sent // 2  # its successor is on the broker
    result = engine.send_chunk(run.pk)
    assert result.sent == 1
    assert broker_queue.count() == 7  # nothing left: no successor
    assert Run.objects.get(pk=run.pk).status == RunStatus.FINISHED
    assert len(smtp_server.messages) == 9


@pytest.mark.django_db
def test_a_turn_claims_chunk_after_chunk_and_hands_on_only_what_is_left(smtp_server, user, settings, broker_queue):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_FAN_OUT = 1
    run = started_run(user, n=9, enqueue=True)

    result = engine.send_chunk(run.pk)

    assert (result.claimed, result.sent) == (9, 9)  # five claims in one turn
    assert broker_queue.count() == 1  # nothing left: no successor
    assert Run.objects.get(pk=run.pk).status == RunStatus.FINISHED


@pytest.mark.django_db
def test_a_turn_ends_after_its_time_and_hands_the_rest_on(smtp_server, user, settings, broker_queue):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_FAN_OUT = 1
    settings.MAILINGS_TURN_SECONDS = 0.000001  # over after the first chunk
    run = started_run(user, n=9, enqueue=True)

    result = engine.send_chunk(run.pk)

    assert (result.claimed, result.sent) == (2, 2)
    assert broker_queue.count() == 2  # its successor is on the broker
    assert Run.objects.get(pk=run.pk).sent_count == 2


@pytest.mark.django_db
def test_a_live_claim_is_refreshed_and_a_dead_one_taken_back_by_the_sweep(user, settings):
    settings.MAILINGS_CLAIM_STALE_SECONDS = 15
    run = started_run(user, n=4)
    alive, _rows = engine.claim(run.pk, 2)
    _dead, _rows = engine.claim(run.pk, 2)
    later = timezone.now() + timedelta(seconds=20)
    engine.keep_claim(run.pk, alive)
    try:
        assert engine.refresh_claims(now=later) == 2  # the heartbeat thread's beat, done here
    finally:
        engine.drop_claim(alive)
    cache.delete("mailings:sweep")

    assert engine.sweep(now=later + timedelta(seconds=1)) == {"settled": 2, "fed": []}

    states = dict(Delivery.objects.filter(run=run).values_list("claim_token", "state").distinct())
    assert states == {alive: DeliveryState.SENDING, "": DeliveryState.PENDING}


@pytest.mark.django_db
def test_one_sweep_per_interval_on_the_whole_site(user):
    cache.delete("mailings:sweep")
    assert engine.sweep() is not None
    assert engine.sweep() is None  # another cluster's sweeper, a moment later: nothing to do twice


@pytest.mark.django_db
def test_a_claim_with_no_row_left_is_forgotten(user):
    run = started_run(user, n=1)
    token, _rows = engine.claim(run.pk, 1)
    Delivery.objects.filter(run=run).update(state=DeliveryState.SENT, claim_token="")
    engine.keep_claim(run.pk, token)
    try:
        assert engine.refresh_claims() == 0
        assert engine.refresh_claims() == 0  # forgotten: not even looked for
    finally:
        engine.drop_claim()
