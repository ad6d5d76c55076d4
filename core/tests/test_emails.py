"""Account emails (core/emails.py) through the queue and the engine's transport."""

import logging

import pytest
from django.core import mail
from django_q.models import Schedule

from core.emails import deliver_email, send_email_later
from core.testing.smtp import closed_port


@pytest.mark.django_db
def test_account_email_goes_through_the_queue_and_the_transport(smtp_server):
    send_email_later(to="new@example.org", subject="Vérifiez", body="Open the link")
    (message,) = smtp_server.messages
    assert message["Subject"] == "Vérifiez"
    assert message["To"] == "new@example.org"
    assert message["Message-ID"]


@pytest.mark.django_db
def test_account_email_message_id_uses_the_sites_domain_not_the_host_name(smtp_server, settings):
    settings.SITE_URL = "https://mailsite.example"
    deliver_email(to="new@example.org", subject="Hi", body="Body")
    assert smtp_server.messages[0]["Message-ID"].endswith("@mailsite.example>")


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
