"""A real SMTP server for tests and benchmarks: aiosmtpd on a free local port.

Every mail test talks to one of these through real sockets, so the code under
test runs exactly as it does against a production server. Faults are set per
test with `server.fault(...)` (see `RecordingHandler.fault`):

    accept           the default: 250 for everything, the message is kept
    slow             wait `delay` seconds before answering DATA (beyond EMAIL_TIMEOUT)
    connect_421      greet with "421 ... try again later" and hang up
    rcpt_451         "451 4.3.0" to RCPT (temporary)
    rcpt_550         "550 5.1.1" to RCPT (permanent)
    data_452         "452 4.3.1" after the message data (temporary)
    disconnect_data  hang up after the message data, before any reply
    garbled          answer RCPT with a line that has no reply code
    mail_451         "451 4.3.0" to MAIL (temporary)
    mail_550         "550 5.7.1" to MAIL (permanent)
    mail_421         "421 4.3.2" to MAIL, and hang up
    disconnect_mail  hang up at MAIL, before any reply
    garbled_mail     answer MAIL with a line that has no reply code
    rcpt_421         "421 4.3.2" to RCPT, and hang up
    data_cmd_451     "451 4.3.0" to the DATA command, before the message data
    data_cmd_554     "554 5.5.1" to the DATA command, before the message data

A fault applies to the recipients in `match` (all when None; the sender for
the MAIL faults) and `times` times (forever when None). For "connection
refused" use `closed_port()`. The server offers PIPELINING (RFC 2920) as
Postfix does; `SMTPTestServer(pipelining=False)` is one that does not.

`server.handler.max_connections = n` greets the connections beyond n open
at once with "421 4.7.0 Too many connections", as a relay's per-client limit
does.

`server.handler.gather(n)` holds every message at DATA until n connections
wait there together, then lets everything through: a test that needs n
senders at once (two clusters sharing a run) gets them by construction.
"""

import asyncio
import contextlib
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

FAULT_MODES = (
    "accept",
    "slow",
    "connect_421",
    "rcpt_451",
    "rcpt_550",
    "data_452",
    "disconnect_data",
    "garbled",
    "mail_451",
    "mail_550",
    "mail_421",
    "disconnect_mail",
    "garbled_mail",
    "rcpt_421",
    "data_cmd_451",
    "data_cmd_554",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    return free_port()


class Fault:
    def __init__(self, mode, match=None, times=None, delay=1.0):
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        self.mode = mode
        self.match = {m.lower() for m in match} if match else None
        self.times = times
        self.delay = delay

    def applies(self, addresses) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        return self.match is None or any(a.lower() in self.match for a in addresses)

    def use(self):
        if self.times is not None:
            self.times -= 1


class RecordingHandler:
    """Accepts mail and keeps it in `self.messages` (parsed) and `self.envelopes`.

    With `parse=False` only the envelopes are kept (fast, for sinks)."""

    def __init__(self, parse=True, pipelining=True):
        self.parse = parse
        self.pipelining = pipelining
        self.messages = []
        self.envelopes = []
        self.faults: list[Fault] = []
        self.connections = 0
        self.open_connections = 0
        self.max_connections = None  # more at once are greeted with 421, as Postfix's connection limit does
        self.rcpt_seen = []
        self.lock = threading.Lock()
        self.gather_at = None
        self.gathered = set()
        self.released = None

    def gather(self, sessions: int, *, timeout: float = 60.0):
        """Hold messages at DATA until `sessions` connections wait there at once (then never again)."""
        self.gather_at, self.gather_timeout = sessions, timeout

    async def _gather(self, session):
        # Every handler runs on the controller's one event loop: an asyncio.Event is enough.
        if self.released is None:
            self.released = asyncio.Event()
        self.gathered.add(id(session))
        if len(self.gathered) >= self.gather_at:
            self.released.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.released.wait(), self.gather_timeout)

    def fault(self, mode, *, match=None, times=None, delay=1.0):
        """Add a fault mode (see the module docstring); returns it."""
        fault = Fault(mode, match=match, times=times, delay=delay)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take(self, modes, addresses=()):
        with self.lock:
            for fault in self.faults:
                if fault.mode in modes and fault.applies(addresses):
                    fault.use()
                    return fault
        return None

    @property
    def recipients(self):
        """Every recipient address of every accepted message, in order."""
        return [rcpt for envelope in self.envelopes for rcpt in envelope.rcpt_tos]

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd hook
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd hook
        modes = ("mail_451", "mail_550", "mail_421", "disconnect_mail", "garbled_mail")
        fault = self.take(modes, [address])
        if fault is None:
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"
        if fault.mode == "mail_451":
            return "451 4.3.0 Sender temporarily rejected, try again later"
        if fault.mode == "mail_550":
            return "550 5.7.1 Sender rejected"
        if fault.mode == "garbled_mail":
            return "this is not an SMTP reply"
        if fault.mode == "mail_421":
            server.loop.call_soon(server.transport.close)  # after the reply is written
            return "421 4.3.2 Service shutting down"
        server.transport.abort()
        return "421 4.4.2 connection dropped"  # never reaches the client

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        self.rcpt_seen.append(address)
        fault = self.take(("rcpt_451", "rcpt_550", "garbled", "rcpt_421"), [address])
        if fault is None:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        if fault.mode == "rcpt_421":
            server.loop.call_soon(server.transport.close)  # after the reply is written
            return "421 4.3.2 Service shutting down"
        if fault.mode == "rcpt_451":
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if fault.mode == "rcpt_550":
            return "550 5.1.1 No such user here"
        return "this is not an SMTP reply"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        if self.gather_at is not None:
            await self._gather(session)
        fault = self.take(("slow", "data_452", "disconnect_data"), envelope.rcpt_tos)
        if fault is not None and fault.mode == "data_452":
            return "452 4.3.1 Insufficient system storage, try again later"
        if fault is not None and fault.mode == "disconnect_data":
            server.transport.abort()
            return "421 4.4.2 connection dropped"  # never reaches the client
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.delay)
        self.envelopes.append(envelope)
        if self.parse:
            self.messages.append(
                message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            )
        return "250 Message accepted for delivery"


class FaultySMTP(SMTP):
    """aiosmtpd's SMTP server that can refuse a connection in its greeting."""

    async def _handle_client(self):
        handler = self.event_handler
        if not isinstance(handler, RecordingHandler):
            await super()._handle_client()
            return
        handler.connections += 1
        if handler.max_connections is not None and handler.open_connections >= handler.max_connections:
            await self.push("421 4.7.0 Too many connections from your host")
            self.transport.close()
            return
        if handler.take(("connect_421",)) is not None:
            await self.push("421 4.3.2 Service not available, try again later")
            self.transport.close()
            return
        handler.open_connections += 1
        try:
            await super()._handle_client()
        finally:
            handler.open_connections -= 1

    async def smtp_DATA(self, arg):  # noqa: N802 - aiosmtpd command
        handler = self.event_handler
        if isinstance(handler, RecordingHandler) and self.envelope is not None and self.envelope.rcpt_tos:
            fault = handler.take(("data_cmd_451", "data_cmd_554"), self.envelope.rcpt_tos)
            if fault is not None and fault.mode == "data_cmd_451":
                await self.push("451 4.3.0 Not now, try again later")
                return
            if fault is not None:
                await self.push("554 5.5.1 No valid recipients")
                return
        await super().smtp_DATA(arg)


class FaultyController(Controller):
    def factory(self):
        return FaultySMTP(self.handler, **self.SMTP_kwargs)


class SMTPTestServer:
    def __init__(self, handler=None, host="127.0.0.1", port=None, *, pipelining=True, **controller_kwargs):
        self.handler = handler or RecordingHandler(pipelining=pipelining)
        self.host = host
        self.port = port or free_port()
        self.controller = FaultyController(self.handler, hostname=host, port=self.port, **controller_kwargs)

    @property
    def messages(self):
        return self.handler.messages

    def fault(self, mode, **kwargs):
        return self.handler.fault(mode, **kwargs)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
