"""The SMTP transport (engine/transport.py, engine/message.py) against a real aiosmtpd server."""

from types import SimpleNamespace

import pytest

from core.testing.smtp import closed_port
from mailings.engine import Fault, MailBuilder, SMTPTransport, classify_reply


def test_one_connection_carries_many_messages(smtp_server):
    transport = SMTPTransport()
    template = MailBuilder(
        message=SimpleNamespace(subject="Hi", body="Body", body_format="text"),
        owner=SimpleNamespace(pk=1, mail_sender_name="Shop", mail_reply_to="shop@example.org"),
    )
    before = smtp_server.handler.connections
    for i in range(5):
        outcome = transport.send(
            "shop@example.org", f"r{i}@example.org", template.render(email=f"r{i}@example.org", client_id=i, key=str(i))
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
