"""Account emails (core/emails.py): kept in the outbox table, delivered by
the worker through the engine's transport, retried from the table."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.emails import deliver_email, deliver_outgoing_emails, send_email_later
from core.models import OutgoingEmail
from core.testing.smtp import closed_port

pytestmark = pytest.mark.django_db


def _due_now():
    OutgoingEmail.objects.update(next_try_at=timezone.now() - timedelta(seconds=1))


def test_account_email_goes_through_the_outbox_and_the_transport(smtp_server):
    send_email_later(to="new@example.org", subject="Vérifiez", body="Open the link")
    (message,) = smtp_server.messages
    assert message["Subject"] == "Vérifiez"
    assert message["To"] == "new@example.org"
    assert message["Message-ID"]
    email = OutgoingEmail.objects.get()
    assert (email.state, email.tries) == (OutgoingEmail.State.SENT, 1)
    assert email.sent_at is not None


def test_account_email_message_id_uses_the_sites_domain_not_the_host_name(smtp_server, settings):
    settings.SITE_URL = "https://mailsite.example"
    send_email_later(to="new@example.org", subject="Hi", body="Body")
    assert smtp_server.messages[0]["Message-ID"].endswith("@mailsite.example>")


def test_account_email_temporary_failure_is_retried_later_from_the_table(smtp_server, caplog):
    smtp_server.fault("rcpt_451", times=1)
    with caplog.at_level(logging.WARNING, logger="core.emails"):
        send_email_later(to="new@example.org", subject="S", body="B")
    email = OutgoingEmail.objects.get()
    assert (email.state, email.tries) == (OutgoingEmail.State.PENDING, 1)
    assert email.next_try_at > timezone.now()
    assert "451" in email.last_reply
    assert "retrying" in caplog.text
    assert deliver_outgoing_emails() == {"pending": 0, "sent": 0, "failed": 0}  # not due yet
    _due_now()
    assert deliver_outgoing_emails()["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_account_email_unreachable_server_is_retried_later(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = closed_port()
    send_email_later(to="new@example.org", subject="S", body="B")
    email = OutgoingEmail.objects.get()
    assert (email.state, email.tries) == (OutgoingEmail.State.PENDING, 1)
    assert "connect" in email.last_reply


def test_account_email_permanent_failure_is_kept_and_not_retried(smtp_server, caplog):
    smtp_server.fault("rcpt_550")
    with caplog.at_level(logging.ERROR, logger="core.emails"):
        send_email_later(to="nobody@example.org", subject="S", body="B")
    email = OutgoingEmail.objects.get()
    assert email.state == OutgoingEmail.State.FAILED
    assert "550" in email.last_reply
    assert "550" in caplog.text
    _due_now()
    assert deliver_outgoing_emails()["failed"] == 0


def test_account_email_gives_up_after_max_tries(smtp_server, settings):
    settings.MAILINGS_MAX_TRIES = 2
    smtp_server.fault("rcpt_451")
    send_email_later(to="new@example.org", subject="S", body="B")
    _due_now()
    assert deliver_outgoing_emails()["failed"] == 1
    assert OutgoingEmail.objects.get().tries == 2


def test_a_retry_scheduled_before_the_outbox_joins_it(smtp_server):
    assert deliver_email(to="old@example.org", subject="S", body="B", attempt=2) == "queued"
    assert OutgoingEmail.objects.get().state == OutgoingEmail.State.SENT


def test_a_leased_email_is_not_sent_twice(smtp_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = closed_port()
    send_email_later(to="new@example.org", subject="S", body="B")
    settings.EMAIL_PORT = smtp_server.port
    OutgoingEmail.objects.update(next_try_at=timezone.now() + timedelta(seconds=60))  # a worker holds it
    assert deliver_outgoing_emails()["sent"] == 0
    assert smtp_server.messages == []


def test_a_non_smtp_backend_keeps_django_outbox_working(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send_email_later(to="new@example.org", subject="Welcome", body="Hi")
    assert [m.subject for m in mail.outbox] == ["Welcome"]
