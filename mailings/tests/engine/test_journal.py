"""The attempt journal (engine/journal.py): one success per client and run, written on its own connection."""

import pytest
from django.utils import timezone

from mailings import engine
from mailings.models import (
    Attempt,
    AttemptStatus,
    Run,
    RunStatus,
)
from mailings.tests.engine.helpers import make_mailing


@pytest.mark.django_db
def test_the_database_refuses_a_second_success_for_a_client_and_run(user):
    from django.db import IntegrityError, transaction

    mailing, clients = make_mailing(user, n=1)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    Attempt.objects.create(mailing=mailing, run=run, client=clients[0], email="c0@example.org", status="success")
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(mailing=mailing, run=run, client=clients[0], email="c0@example.org", status="success")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_writes_the_journal_on_its_own_connection(smtp_server, user, settings):
    """Outside a transaction (as in a worker), the attempt INSERTs run on a
    helper thread, overlapping the next message's MAIL and RCPT."""
    settings.MAILINGS_CHUNK_SIZE = 50
    mailing, _clients = make_mailing(user, n=60)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), status=RunStatus.PENDING)
    engine.snapshot_recipients(run)

    results = engine.send_run_inline(run.pk)

    assert [r.sent for r in results] == [60, 0]  # one turn: chunks of 50 and 10
    assert Attempt.objects.filter(run=run, status=AttemptStatus.SUCCESS).count() == 60
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (RunStatus.FINISHED, 60)
    assert len(smtp_server.messages) == 60
