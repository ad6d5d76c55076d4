"""Hostile messages and recipients (issue 11, item 8): refused at their source."""

import pytest
from django.urls import reverse

from core.testing.smtp import SMTPTestServer
from mailings import engine
from mailings.engine import MailBuilder
from mailings.models import Attempt, AttemptStatus, Client, Delivery, DeliveryState, Message, Run, RunStatus
from mailings.tests.engine.helpers import make_mailing
from mailings.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("subject", ["Hello\r\nBcc: all@example.org", "Line one\nline two", "Carriage\rreturn"])
def test_a_subject_with_a_line_break_is_a_field_error(user_client, subject):
    response = user_client.post(reverse("mailings:message_create"), {"subject": subject, "body": "Body"})
    assert response.status_code == 200
    assert "The subject must be a single line." in response.content.decode()
    assert not Message.objects.exists()


# --- The engine: internationalised addresses, and no exception out of a chunk ---------------


def _run(mailing):
    engine.replan_mailing(mailing)
    return Run.objects.get(mailing=mailing)


def test_an_internationalised_domain_is_sent_in_its_idna_form(smtp_server, user, settings):
    with SMTPTestServer(enable_SMTPUTF8=False) as server:  # no SMTPUTF8, unlike smtp_server
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        mailing, clients = make_mailing(user, n=2)
        Client.objects.filter(pk=clients[0].pk).update(email="käufer@bücher.example", full_name="Jürgen Müller")
        Client.objects.filter(pk=clients[1].pk).update(email="plain@bücher.example", full_name="")

        run = _run(mailing)

        assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 1, 1)
        assert server.handler.recipients == ["plain@xn--bcher-kva.example"]
        assert str(server.messages[0]["To"]) == "plain@xn--bcher-kva.example"
    failed = Attempt.objects.get(run=run, status=AttemptStatus.FAILED)
    assert failed.email == "käufer@bücher.example"
    assert not failed.is_temporary
    assert "does not offer SMTPUTF8" in failed.server_reply


def test_a_non_ascii_local_part_goes_out_with_smtputf8_when_the_server_offers_it(smtp_server, user):
    mailing, clients = make_mailing(user, n=1)
    Client.objects.filter(pk=clients[0].pk).update(email="käufer@bücher.example", full_name="Jürgen Müller")

    run = _run(mailing)

    assert (run.sent_count, run.failed_count) == (1, 0)
    assert smtp_server.handler.recipients == ["käufer@xn--bcher-kva.example"]
    assert smtp_server.handler.envelopes[0].mail_options == ["SMTPUTF8"]
    assert "käufer@xn--bcher-kva.example" in smtp_server.handler.envelopes[0].content.decode()
    assert "Jürgen Müller" in str(smtp_server.messages[0]["To"])


def test_a_subject_with_a_line_break_in_the_database_is_sent_on_one_line(smtp_server, user):
    # The form refuses line breaks; one stored before that is folded into one
    # line when the email is built, so it can never inject a header.
    message = MessageFactory(owner=user)
    Message.objects.filter(pk=message.pk).update(subject="Hello\r\nBcc: all@example.org")
    mailing, clients = make_mailing(user, n=3, message=message)

    run = _run(mailing)

    assert (run.status, run.sent_count) == (RunStatus.FINISHED, 3)
    assert not Delivery.objects.filter(run=run, state=DeliveryState.SENDING).exists()
    assert [m["Subject"] for m in smtp_server.messages] == ["Hello Bcc: all@example.org"] * 3
    assert all(m["Bcc"] is None for m in smtp_server.messages)
    assert sorted(smtp_server.handler.recipients) == sorted(c.email for c in clients)


def test_a_failure_building_one_message_fails_that_recipient_only(smtp_server, user, monkeypatch):
    mailing, clients = make_mailing(user, n=3)
    real_render = MailBuilder.render

    def render(self, *, email, name="", **kwargs):
        if email == clients[1].email:
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        return real_render(self, email=email, name=name, **kwargs)

    monkeypatch.setattr(MailBuilder, "render", render)

    run = _run(mailing)

    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 2, 1)
    failed = Attempt.objects.get(run=run, status=AttemptStatus.FAILED)
    assert failed.email == clients[1].email
    assert failed.server_reply.startswith("error: UnicodeEncodeError")
    assert not failed.is_temporary


def test_a_run_that_keeps_failing_on_a_bug_is_stopped_with_the_error(smtp_server, user, monkeypatch, settings):
    settings.MAILINGS_MAX_ERRORS_IN_A_ROW = 3
    mailing, _clients = make_mailing(user, n=6)

    def render(self, **kwargs):
        raise KeyError("no such placeholder")

    monkeypatch.setattr(MailBuilder, "render", render)

    run = _run(mailing)

    assert run.status == RunStatus.STOPPED
    assert "3 messages in a row failed with an error" in run.stop_reason
    assert "KeyError" in run.stop_reason
    assert Attempt.objects.filter(run=run, status=AttemptStatus.FAILED).count() == 3
    assert Delivery.objects.filter(run=run, state=DeliveryState.SKIPPED).count() == 3
    assert smtp_server.messages == []
