"""SMTP PIPELINING (RFC 2920) in the transport: every fault at every stage is
classified exactly as without it, against real aiosmtpd servers that do and
do not offer the extension; the previous attempt is waited for before the
message's final "." line."""

from types import SimpleNamespace

import pytest

from core.testing.smtp import SMTPTestServer
from mailings.engine import Fault, MailBuilder, SMTPTransport

SENDER = "shop@example.org"

# fault mode, options -> (fault, code, reply starts with)
FAULTS = [
    ("accept", {}, Fault.OK, 250, "Message accepted"),
    ("mail_451", {}, Fault.TEMPORARY, 451, "MAIL: 451"),
    ("mail_550", {}, Fault.PERMANENT, 550, "MAIL: 550"),
    ("mail_421", {}, Fault.RECONNECT, 421, "MAIL: 421"),
    ("disconnect_mail", {}, Fault.RECONNECT, None, "MAIL: SMTPServerDisconnected"),
    ("garbled_mail", {}, Fault.RECONNECT, None, "MAIL: garbled reply"),
    ("rcpt_451", {}, Fault.TEMPORARY, 451, "RCPT: 451"),
    ("rcpt_550", {}, Fault.PERMANENT, 550, "RCPT: 550"),
    ("rcpt_421", {}, Fault.RECONNECT, 421, "RCPT: 421"),
    ("garbled", {}, Fault.RECONNECT, None, "RCPT: garbled reply"),
    ("data_cmd_451", {}, Fault.TEMPORARY, 451, "DATA: 451"),
    ("data_cmd_554", {}, Fault.PERMANENT, 554, "DATA: 554"),
    ("data_452", {}, Fault.TEMPORARY, 452, "DATA: 452"),
    ("disconnect_data", {}, Fault.RECONNECT, None, "DATA: "),
    ("slow", {"delay": 1.0}, Fault.RECONNECT, None, "DATA: "),
]


@pytest.fixture
def template():
    return MailBuilder(
        message=SimpleNamespace(subject="Hi", body="Body\n.\nA line that is only a dot, above.", body_format="text"),
        owner=SimpleNamespace(pk=1, mail_sender_name="Shop", mail_reply_to=SENDER),
    )


def send(transport, template, email, **kwargs):
    return transport.send(SENDER, email, template.render(email=email, client_id=1, key=email), **kwargs)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
@pytest.mark.parametrize(("mode", "options", "fault", "code", "starts"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_at_each_stage_is_classified_the_same_way(template, pipelining, mode, options, fault, code, starts):
    with SMTPTestServer(pipelining=pipelining) as server:
        transport = SMTPTransport(host=server.host, port=server.port, timeout=0.5)
        assert send(transport, template, "before@example.org").ok
        assert transport.pipelining is pipelining
        server.fault(mode, times=1, **options)

        outcome = send(transport, template, "r@example.org")

        assert (outcome.fault, outcome.code) == (fault, code)
        assert outcome.reply.startswith(starts), outcome.reply
        # The connection is usable again (or replaced): the next message goes through.
        after = send(transport, template, "after@example.org")
        assert after.ok, after.reply
        transport.close()
        delivered = server.handler.recipients
    expected = ["before@example.org", "r@example.org", "after@example.org"]
    if mode == "slow":  # a slow server may still take the message after the client gave up
        assert [e for e in delivered if e != "r@example.org"] == ["before@example.org", "after@example.org"]
    else:
        assert delivered == [e for e in expected if fault == Fault.OK or e != "r@example.org"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_the_previous_attempt_is_waited_for_before_the_message_can_be_accepted(template, pipelining):
    with SMTPTestServer(pipelining=pipelining) as server:
        transport = SMTPTransport(host=server.host, port=server.port)
        seen = []

        def before_data():
            # The server has the envelope but not the whole message yet.
            seen.append((list(server.handler.rcpt_seen), len(server.handler.envelopes)))

        assert send(transport, template, "a@example.org", before_data=before_data).ok
        assert send(transport, template, "b@example.org", before_data=before_data).ok
        transport.close()
        assert seen == [(["a@example.org"], 0), (["a@example.org", "b@example.org"], 1)]
        # Dot-stuffing: the line with a single dot arrives as such.
        assert "\n.\n" in server.messages[0].get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_a_failing_wait_leaves_the_message_unsent_and_the_connection_closed(template):
    """Pipelined, the body is on the wire when the journal is waited for: if
    the wait fails, the message is never terminated and the connection is
    dropped (a QUIT there would be read as message text)."""
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port, timeout=2)

        def broken():
            raise RuntimeError("the journal is gone")

        with pytest.raises(RuntimeError):
            send(transport, template, "a@example.org", before_data=broken)
        assert not transport.connected
        assert send(transport, template, "b@example.org").ok
        transport.close()
        assert server.handler.recipients == ["b@example.org"]


def test_pipelining_can_be_turned_off(template, settings):
    settings.MAILINGS_SMTP_PIPELINING = False
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port)
        assert send(transport, template, "a@example.org").ok
        assert not transport.pipelining
        transport.close()
        assert server.handler.recipients == ["a@example.org"]


# --- the next message's envelope announced with this message's end --------------------------

OTHER_SENDER = "other@example.org"  # the announced message's sender, so MAIL faults hit only it


@pytest.mark.parametrize(("mode", "options", "fault", "code", "starts"), FAULTS, ids=[f[0] for f in FAULTS])
def test_an_announced_message_is_classified_the_same_way(template, mode, options, fault, code, starts):
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port, timeout=0.5)
        server.fault(
            mode,
            times=1,
            match=[OTHER_SENDER if mode.startswith(("mail", "disconnect_mail", "garbled_mail")) else "r@example.org"],
            **options,
        )
        assert send(transport, template, "before@example.org", then=(OTHER_SENDER, "r@example.org", False)).ok
        assert transport.announced == (OTHER_SENDER, "r@example.org", False)

        outcome = transport.send(
            OTHER_SENDER, "r@example.org", template.render(email="r@example.org", client_id=1, key="r")
        )

        assert (outcome.fault, outcome.code) == (fault, code)
        assert outcome.reply.startswith(starts), outcome.reply
        assert transport.announced is None
        after = send(transport, template, "after@example.org")
        assert after.ok, after.reply
        transport.close()
        delivered = server.handler.recipients
    if mode == "slow":
        assert [e for e in delivered if e != "r@example.org"] == ["before@example.org", "after@example.org"]
    else:
        expected = ["before@example.org", "r@example.org", "after@example.org"]
        assert delivered == [e for e in expected if fault == Fault.OK or e != "r@example.org"]


def test_a_run_of_announced_messages_needs_one_round_trip_each(template):
    emails = [f"c{i}@example.org" for i in range(5)]
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port)
        for email, upcoming in zip(emails, [*emails[1:], None], strict=True):
            then = (SENDER, upcoming, False) if upcoming else None
            assert send(transport, template, email, then=then).ok
            assert transport.announced == then
        transport.close()
        assert server.handler.recipients == emails


@pytest.mark.parametrize("change_of_plan", ["another message", "close"])
def test_an_announced_message_that_is_not_sent_is_never_ended(template, change_of_plan):
    """The announced DATA may be open on the server: it is dropped with the
    connection, never ended with a "." (that would deliver an empty message)."""
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port, timeout=2)
        assert send(transport, template, "a@example.org", then=(SENDER, "announced@example.org", False)).ok
        if change_of_plan == "close":
            transport.close()
        else:
            assert send(transport, template, "b@example.org").ok
            transport.close()
        assert not transport.connected
        assert transport.announced is None
        delivered = server.handler.recipients
    assert "announced@example.org" not in delivered
    assert delivered == (["a@example.org"] if change_of_plan == "close" else ["a@example.org", "b@example.org"])


def test_a_refused_message_end_does_not_reset_the_announced_one(template):
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port)
        server.fault("data_452", times=1, match=["a@example.org"])
        outcome = send(transport, template, "a@example.org", then=(SENDER, "b@example.org", False))
        assert (outcome.fault, outcome.code) == (Fault.TEMPORARY, 452)
        assert send(transport, template, "b@example.org").ok
        transport.close()
        assert server.handler.recipients == ["b@example.org"]


def test_an_address_that_cannot_be_sent_is_not_announced(template):
    with SMTPTestServer() as server:
        transport = SMTPTransport(host=server.host, port=server.port)
        assert send(transport, template, "a@example.org", then=(SENDER, "bad <x>@example.org", False)).ok
        assert transport.announced is None
        assert send(transport, template, "b@example.org").ok
        transport.close()
        assert server.handler.recipients == ["a@example.org", "b@example.org"]
