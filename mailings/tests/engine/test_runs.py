"""The life of a run (engine/runs.py): start, fan out into chunks, finish."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailings import engine
from mailings.models import Delivery, DeliveryState, Mailing, MailingStatus, Run, RunStatus
from mailings.tests.engine.helpers import make, make_mailing


@pytest.mark.django_db
def test_two_dispatchers_never_take_the_same_slot(smtp_server, user):
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1))
    Mailing.objects.filter(pk=mailing.pk).update(next_run_at=mailing.start_at)
    first = engine.start_due_run(mailing.pk)
    second = engine.start_due_run(mailing.pk)
    assert first is not None
    assert second is None
    assert mailing.runs.count() == 1


@pytest.mark.django_db
def test_a_run_is_claimed_in_chunks_and_a_turn_sends_them_on_its_connections(smtp_server, user, settings):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_SMTP_CONNECTIONS = 2
    mailing, _clients = make_mailing(user, n=5)
    before = smtp_server.handler.connections

    engine.replan_mailing(mailing)

    # Three claims of at most 2, one chunk task's turn, its two SMTP connections.
    assert smtp_server.handler.connections - before == 2
    assert len(smtp_server.messages) == 5
    run = Run.objects.get(mailing=mailing)
    assert run.sent_count == 5
    assert set(Delivery.objects.filter(run=run).values_list("state", flat=True)) == {DeliveryState.SENT}


@pytest.mark.django_db
def test_with_no_turn_each_chunk_task_sends_one_chunk_on_its_own_connections(smtp_server, user, settings):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_TURN_SECONDS = 0
    settings.MAILINGS_SMTP_CONNECTIONS = 2
    mailing, _clients = make_mailing(user, n=5)
    before = smtp_server.handler.connections

    engine.replan_mailing(mailing)

    # Chunks of 2, 2 and 1: a connection for each message of a round.
    assert smtp_server.handler.connections - before == 5
    assert Run.objects.get(mailing=mailing).sent_count == 5


@pytest.mark.django_db
def test_a_mailing_without_clients_finishes_at_once(smtp_server, user):
    mailing, _ = make_mailing(user, n=0)
    engine.replan_mailing(mailing)
    run = Run.objects.get(mailing=mailing)
    assert (run.status, run.recipients_count) == (RunStatus.FINISHED, 0)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED
