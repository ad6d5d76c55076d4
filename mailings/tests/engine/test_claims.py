"""Claims (engine/claims.py): no delivery is held by two chunks, a recorded success is never sent again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailings import engine
from mailings.models import (
    Attempt,
    AttemptStatus,
    Delivery,
    DeliveryState,
    Run,
    RunStatus,
)
from mailings.tests.engine.helpers import make_mailing


@pytest.mark.django_db
def test_a_claimed_chunk_is_never_claimed_twice(user):
    mailing, _clients = make_mailing(user, n=5, start_at=timezone.now() + timedelta(days=1))
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    engine.snapshot_recipients(run)
    _token_a, rows_a = engine.claim(run.pk, 3)
    _token_b, rows_b = engine.claim(run.pk, 3)
    _token_c, rows_c = engine.claim(run.pk, 3)
    assert len(rows_a) == 3
    assert len(rows_b) == 2
    assert rows_c == []
    assert not {r.id for r in rows_a} & {r.id for r in rows_b}


@pytest.mark.django_db
def test_a_success_on_record_is_never_sent_again(smtp_server, user):
    """A worker died after the server accepted the message and the attempt was
    written, before the delivery state was: the stale claim is settled from the
    journal and the client gets nothing more."""
    mailing, clients = make_mailing(user, n=3, start_at=timezone.now() + timedelta(days=1))
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), status=RunStatus.SENDING)
    engine.snapshot_recipients(run)
    _token, rows = engine.claim(run.pk, 10)
    Attempt.objects.create(
        mailing=mailing, run=run, client_id=rows[0].client_id, email=rows[0].email, status=AttemptStatus.SUCCESS
    )
    Delivery.objects.filter(run=run).update(claimed_at=timezone.now() - timedelta(hours=1))

    assert engine.settle_stale_claims() == 3
    assert Delivery.objects.get(run=run, client_id=rows[0].client_id).state == DeliveryState.SENT
    engine.send_run_inline(run.pk)

    assert sorted(smtp_server.handler.recipients) == sorted(c.email for c in clients[1:])
    assert Attempt.objects.filter(run=run, status=AttemptStatus.SUCCESS).count() == 3
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (RunStatus.FINISHED, 3)
