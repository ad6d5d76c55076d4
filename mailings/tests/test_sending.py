"""The sending engine against a real aiosmtpd server: runs, chunks, the journal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailings import engine
from mailings.models import Attempt, AttemptStatus, Delivery, DeliveryState, MailingStatus, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


def make_mailing(user, n=3, **kwargs):
    clients = [ClientFactory(owner=user, email=f"c{i}@example.org", full_name=f"Client {i}") for i in range(n)]
    start = kwargs.pop("start_at", timezone.now() - timedelta(minutes=1))
    mailing = MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=30), clients=clients, **kwargs)
    return mailing, clients


def test_a_due_mailing_sends_one_proper_email_per_client(smtp_server, user):
    message = MessageFactory(owner=user, subject="Новости — été", body="Bonjour,\nÇa va ?\n")
    mailing, clients = make_mailing(user, n=3, message=message)
    clients[0].full_name = "Zoë Ångström"
    clients[0].save()

    engine.replan_mailing(mailing)

    run = Run.objects.get(mailing=mailing)
    assert run.status == RunStatus.FINISHED
    assert (run.recipients_count, run.sent_count, run.failed_count) == (3, 3, 0)
    assert run.finished_at is not None
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
    assert set(received) == {c.email for c in clients}
    first = received[clients[0].email]
    assert str(first["To"]) == "Zoë Ångström <c0@example.org>"
    assert first["Subject"] == "Новости — été"
    assert first["From"] is not None
    assert first["Date"] is not None
    assert first["Message-ID"].startswith(f"<mailsite.r{run.pk}.d")
    assert first.get_content_charset() == "utf-8"
    assert first.get_content().replace("\r\n", "\n") == "Bonjour,\nÇa va ?\n"
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 3
    attempts = Attempt.objects.filter(run=run)
    assert attempts.count() == 3
    assert set(attempts.values_list("status", "smtp_code")) == {(AttemptStatus.SUCCESS, 250)}
    assert all("accepted" in a.server_reply for a in attempts)
    assert all(a.sent_by for a in attempts)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED
    assert mailing.next_run_at is None


def test_a_run_is_split_into_chunks_each_on_one_connection(smtp_server, user, settings):
    settings.MAILINGS_CHUNK_SIZE = 2
    mailing, _clients = make_mailing(user, n=5)
    before = smtp_server.handler.connections

    engine.replan_mailing(mailing)

    assert smtp_server.handler.connections - before == 3
    assert len(smtp_server.messages) == 5
    run = Run.objects.get(mailing=mailing)
    assert run.sent_count == 5
    assert set(Delivery.objects.filter(run=run).values_list("state", flat=True)) == {DeliveryState.SENT}


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


def test_the_database_refuses_a_second_success_for_a_client_and_run(user):
    from django.db import IntegrityError, transaction

    mailing, clients = make_mailing(user, n=1)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now())
    Attempt.objects.create(mailing=mailing, run=run, client=clients[0], email="c0@example.org", status="success")
    with pytest.raises(IntegrityError), transaction.atomic():
        Attempt.objects.create(mailing=mailing, run=run, client=clients[0], email="c0@example.org", status="success")


def test_a_mailing_without_clients_finishes_at_once(smtp_server, user):
    mailing, _ = make_mailing(user, n=0)
    engine.replan_mailing(mailing)
    run = Run.objects.get(mailing=mailing)
    assert (run.status, run.recipients_count) == (RunStatus.FINISHED, 0)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_writes_the_journal_on_its_own_connection(smtp_server, user, settings):
    """Outside a transaction (as in a worker), the attempt INSERTs run on a
    helper thread, overlapping the next message's MAIL and RCPT."""
    settings.MAILINGS_CHUNK_SIZE = 50
    mailing, _clients = make_mailing(user, n=60)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), status=RunStatus.PENDING)
    engine.snapshot_recipients(run)

    results = engine.send_run_inline(run.pk)

    assert [r.sent for r in results] == [50, 10, 0]
    assert Attempt.objects.filter(run=run, status=AttemptStatus.SUCCESS).count() == 60
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (RunStatus.FINISHED, 60)
    assert len(smtp_server.messages) == 60
