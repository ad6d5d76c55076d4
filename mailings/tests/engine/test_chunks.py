"""Sending a chunk (engine/chunks.py) against a real aiosmtpd server: the message and stopping mid-run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import user_block
from mailings import engine
from mailings.models import (
    Attempt,
    AttemptStatus,
    Delivery,
    DeliveryState,
    Mailing,
    MailingStatus,
    Run,
    RunStatus,
)
from mailings.tests.engine.helpers import make, make_mailing
from mailings.tests.factories import MessageFactory


def _stop_after(n, action):
    sent = {"n": 0}

    def progress(_):
        sent["n"] += 1
        if sent["n"] == n:
            action()

    return progress


@pytest.mark.django_db
def test_disabling_a_mailing_mid_run_stops_it_and_records_the_rest_as_not_sent(smtp_server, user, manager, settings):
    settings.MAILINGS_CHECK_SECONDS = 0
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1), n=6)
    run = Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at, status=RunStatus.PENDING)
    engine.snapshot_recipients(run)

    def disable():
        # A manager, in another process: the chunk notices between messages.
        Mailing.objects.filter(pk=mailing.pk).update(is_active=False, disabled_reason="Spam complaints")

    result = engine.send_chunk(run.pk, progress=_stop_after(2, disable))
    assert result.stopped
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED
    assert "disabled by a manager" in run.stop_reason
    assert "Spam complaints" in run.stop_reason
    assert (run.sent_count, run.skipped_count) == (2, 4)
    skipped = Delivery.objects.filter(run=run, state=DeliveryState.SKIPPED)
    assert skipped.count() == 4
    assert all("disabled" in d.last_reply for d in skipped)
    assert len(smtp_server.messages) == 2


@pytest.mark.django_db
def test_blocking_the_owner_mid_run_stops_it(smtp_server, user, manager, settings):
    settings.MAILINGS_CHECK_SECONDS = 0
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1), n=5)
    run = Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at, status=RunStatus.PENDING)
    engine.snapshot_recipients(run)

    result = engine.send_chunk(run.pk, progress=_stop_after(3, lambda: user_block(user=user, by=manager)))

    assert result.stopped
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.skipped_count) == (RunStatus.STOPPED, 3, 2)
    assert "blocked" in run.stop_reason
    assert len(smtp_server.messages) == 3


@pytest.mark.django_db
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
    text = first.get_body(("plain",))
    assert text.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n").startswith("Bonjour,\nÇa va ?\n\n-- \n")
    assert "<p>Bonjour,\r\nÇa va ?</p>" in first.get_body(("html",)).get_content()
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 3
    attempts = Attempt.objects.filter(run=run)
    assert attempts.count() == 3
    assert set(attempts.values_list("status", "smtp_code")) == {(AttemptStatus.SUCCESS, 250)}
    assert all("accepted" in a.server_reply for a in attempts)
    assert all(a.sent_by for a in attempts)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED
    assert mailing.next_run_at is None
