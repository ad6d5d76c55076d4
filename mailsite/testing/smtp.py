"""A real SMTP server for tests and benchmarks: aiosmtpd on a free local port.

Every mail test talks to one of these through real sockets, so the code under
test runs exactly as it does against a production server. Faults are set per
test with `server.handler` attributes (see `RecordingHandler`).
"""

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Accepts mail and keeps it in `self.messages` (parsed) and `self.envelopes`."""

    def __init__(self):
        self.messages = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SMTPTestServer:
    def __init__(self, handler=None, host="127.0.0.1", port=None, **controller_kwargs):
        self.handler = handler or RecordingHandler()
        self.host = host
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname=host, port=self.port, **controller_kwargs)

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
