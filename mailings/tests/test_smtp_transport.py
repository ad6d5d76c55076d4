"""The SMTP transport and account emails, against a real aiosmtpd server."""

import logging

import pytest
from django.core import mail
from django_q.models import Schedule

from core.emails import deliver_email, send_email_later
from core.testing.smtp import closed_port
from mailings.smtp import Fault, MessageTemplate, SMTPTransport, classify_reply


def test_one_connection_carries_many_messages(smtp_server):
    transport = SMTPTransport()
    template = MessageTemplate(subject="Hi", body="Body", from_email="Shop <shop@example.org>")
    before = smtp_server.handler.connections
    for i in range(5):
        outcome = transport.send(
            "shop@example.org", f"r{i}@example.org", template.render(email=f"r{i}@example.org", key=str(i))
        )
        assert outcome.ok
        assert outcome.code == 250
    transport.close()
    assert smtp_server.handler.connections - before == 1
    assert [m["To"] for m in smtp_server.messages] == [f"r{i}@example.org" for i in range(5)]


@pytest.mark.parametrize(
    ("code", "fault"),
    [
        (250, Fault.TEMPORARY),
        (421, Fault.RECONNECT),
        (450, Fault.TEMPORARY),
        (452, Fault.TEMPORARY),
        (550, Fault.PERMANENT),
        (554, Fault.PERMANENT),
        (-1, Fault.RECONNECT),
    ],
)
def test_reply_classification(code, fault):
    assert classify_reply(code, b"text", "RCPT").fault == fault


def test_refused_is_unavailable():
    outcome = SMTPTransport(host="127.0.0.1", port=closed_port(), timeout=1).open()
    assert outcome.fault == Fault.UNAVAILABLE
    assert "ConnectionRefusedError" in outcome.reply


def test_a_421_greeting_is_temporary_and_the_next_connection_works(smtp_server):
    transport = SMTPTransport()
    smtp_server.fault("connect_421", times=1)
    assert transport.open().fault == Fault.RECONNECT
    assert transport.open().ok
    transport.close()


def test_a_tls_failure_is_unavailable(smtp_server):
    # The test server does not offer STARTTLS: asking for it fails the connection.
    outcome = SMTPTransport(use_tls=True).open()
    assert outcome.fault == Fault.UNAVAILABLE
    assert "STARTTLS" in outcome.reply


@pytest.mark.django_db
def test_account_email_goes_through_the_queue_and_the_transport(smtp_server):
    send_email_later(to="new@example.org", subject="Vérifiez", body="Open the link")
    (message,) = smtp_server.messages
    assert message["Subject"] == "Vérifiez"
    assert message["To"] == "new@example.org"
    assert message["Message-ID"]


@pytest.mark.django_db
def test_account_email_temporary_failure_is_retried_later(smtp_server, caplog):
    smtp_server.fault("rcpt_451")
    with caplog.at_level(logging.WARNING, logger="core.emails"):
        assert deliver_email(to="new@example.org", subject="S", body="B") == "retry"
    retry = Schedule.objects.get(func="core.emails.deliver_email")
    assert "'attempt': 2" in retry.kwargs
    assert "retrying" in caplog.text
    assert "451" in caplog.text


@pytest.mark.django_db
def test_account_email_unreachable_server_is_retried_later(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = closed_port()
    assert deliver_email(to="new@example.org", subject="S", body="B") == "retry"
    assert Schedule.objects.filter(func="core.emails.deliver_email").count() == 1


@pytest.mark.django_db
def test_account_email_permanent_failure_is_logged_and_not_retried(smtp_server, caplog):
    smtp_server.fault("rcpt_550")
    with caplog.at_level(logging.ERROR, logger="core.emails"):
        assert deliver_email(to="nobody@example.org", subject="S", body="B") == "failed"
    assert not Schedule.objects.filter(func="core.emails.deliver_email").exists()
    assert "550" in caplog.text


@pytest.mark.django_db
def test_account_email_gives_up_after_max_tries(smtp_server, settings):
    settings.MAILINGS_MAX_TRIES = 3
    smtp_server.fault("rcpt_451")
    assert deliver_email(to="new@example.org", subject="S", body="B", attempt=3) == "failed"


@pytest.mark.django_db
def test_a_non_smtp_backend_keeps_django_outbox_working(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send_email_later(to="new@example.org", subject="Welcome", body="Hi")
    assert [m.subject for m in mail.outbox] == ["Welcome"]
