"""Talking to the mail server: one SMTP connection reused for many messages,
and every reply or error classified.

`SMTPTransport` sends with smtplib's low-level commands (MAIL, RCPT, DATA) on
its own connection, so it sees each reply and can tell a recipient's fault
(4xx: try later; 5xx: never) from the server's (unreachable: defer the run;
slow, disconnected, garbled: reconnect and go on). No smtplib or socket
exception leaves this module: every outcome is an `Outcome`.

When the server offers PIPELINING (RFC 2920) and MAILINGS_SMTP_PIPELINING is
on, MAIL, RCPT and DATA go out in one write and their three replies are read
together: two round trips per message instead of four. When the caller names
the next message's envelope (`then`), its MAIL, RCPT and DATA go out with this
message's final "." line, and their replies come back with its reply: one
round trip per message. `begin`, `end` and `reply` are a message's three
steps apart, so that a chunk can end the messages of several connections
together (engine.chunks); `send` takes them one after the other.

When EMAIL_BACKEND is not Django's SMTP backend (the locmem backend in tests,
the console backend), `DjangoBackendTransport` hands each message to that
backend instead, so `mail.outbox` keeps working.
"""

import contextlib
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.utils import DNS_NAME

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class Fault:
    """What kind of outcome; stored nowhere, it drives the engine."""

    OK = "ok"
    PERMANENT = "permanent"  # 5xx for this recipient: never retried
    TEMPORARY = "temporary"  # 4xx for this recipient: retried later
    RECONNECT = "reconnect"  # slow, disconnected, garbled, 421: temporary, new connection
    UNAVAILABLE = "unavailable"  # refused, unreachable, TLS, auth: defer the whole run


@dataclass(frozen=True, slots=True)
class Outcome:
    fault: str
    code: int | None = None
    reply: str = ""

    @property
    def ok(self) -> bool:
        return self.fault == Fault.OK

    @property
    def temporary(self) -> bool:
        return self.fault in (Fault.TEMPORARY, Fault.RECONNECT, Fault.UNAVAILABLE)


# Everything the network and smtplib may raise while talking to a server.
NETWORK_ERRORS = (smtplib.SMTPException, OSError, ssl.SSLError, socket.timeout, UnicodeError, ValueError)


def _text(resp) -> str:
    if isinstance(resp, bytes):
        return resp.decode("utf-8", errors="replace")
    return str(resp or "")


def describe(exc: BaseException) -> str:
    """The class and message of an error, and what caused it ("timed out")."""
    cause = exc.__cause__ or exc.__context__
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(cause, OSError) and not isinstance(exc, OSError):
        text += f" ({type(cause).__name__}: {cause})"
    return text


def _plain_address(address: str, *, utf8: bool = False) -> bool:
    return bool(address) and (utf8 or address.isascii()) and not any(c in address for c in "\r\n<> ")


def _envelope(from_addr: str, to_addr: str, smtputf8: bool) -> bytes:
    """MAIL, RCPT and DATA for one message, as one pipelined write (UTF-8 only with SMTPUTF8, RFC 6531)."""
    commands = f"MAIL FROM:<{from_addr}>{' SMTPUTF8' if smtputf8 else ''}\r\nRCPT TO:<{to_addr}>\r\nDATA\r\n"
    return commands.encode("utf-8" if smtputf8 else "ascii")


def _unsendable(conn, from_addr: str, to_addr: str, smtputf8: bool) -> Outcome | None:
    """Why this envelope cannot go out on this connection, or None: checked
    before a message's commands are sent, and before they are announced."""
    if not (_plain_address(from_addr) and _plain_address(to_addr, utf8=smtputf8)):
        return Outcome(Fault.PERMANENT, None, f"invalid address: {to_addr!r}")
    if smtputf8 and not conn.has_extn("smtputf8"):
        return Outcome(Fault.PERMANENT, None, f"the mail server does not offer SMTPUTF8, needed for {to_addr}")
    return None


def smtp_address(address: str) -> tuple[str, bool]:
    """The address as it goes on the wire, and whether it needs SMTPUTF8.

    An internationalised domain is sent in its IDNA (xn--) form, which every
    server takes; only a non-ASCII local part needs the SMTPUTF8 extension.
    Raises ValueError for an address that cannot be sent at all."""
    local, at, domain = address.rpartition("@")
    if not (local and at and domain):
        raise ValueError(f"invalid address: {address!r}")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"invalid domain in {address!r}: {exc}") from exc
    return f"{local}@{domain}", not local.isascii()


def classify_reply(code: int, resp, stage: str) -> Outcome:
    """An SMTP reply to MAIL, RCPT or DATA."""
    text = f"{stage}: {code} {_text(resp)}".strip()
    if code < 0 or code > 599:
        # smtplib reports a reply line without a code as -1: garbled.
        return Outcome(Fault.RECONNECT, None, f"{stage}: garbled reply: {_text(resp)}")
    if code == 421:
        return Outcome(Fault.RECONNECT, code, text)
    if 400 <= code < 500:
        return Outcome(Fault.TEMPORARY, code, text)
    if code >= 500:
        return Outcome(Fault.PERMANENT, code, text)
    return Outcome(Fault.TEMPORARY, code, text)


class SMTPTransport:
    """One connection to the mail server, opened lazily and reused."""

    wants_bytes = True

    def __init__(
        self,
        *,
        host=None,
        port=None,
        username=None,
        password=None,
        use_tls=None,
        use_ssl=None,
        timeout=None,
    ):
        self.host = host if host is not None else settings.EMAIL_HOST
        self.port = port if port is not None else settings.EMAIL_PORT
        self.username = settings.EMAIL_HOST_USER if username is None else username
        self.password = settings.EMAIL_HOST_PASSWORD if password is None else password
        self.use_tls = settings.EMAIL_USE_TLS if use_tls is None else use_tls
        self.use_ssl = settings.EMAIL_USE_SSL if use_ssl is None else use_ssl
        self.timeout = settings.EMAIL_TIMEOUT if timeout is None else timeout
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False
        # The next message's envelope, already sent after the last final ".":
        # its three replies are still to be read.
        self.announced: tuple[str, str, bool] | None = None
        self.in_data = False  # a begun message's body is out, its final "." not yet
        self.failed: BaseException | None = None  # end() could not send the "."

    @property
    def connected(self) -> bool:
        return self.connection is not None

    def open(self) -> Outcome:
        """Connect, greet, STARTTLS and log in. Outcome.ok or why not."""
        self.close()
        klass = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        kwargs = {"local_hostname": DNS_NAME.get_fqdn(), "timeout": self.timeout}
        if self.use_ssl:
            kwargs["context"] = ssl.create_default_context()
        conn = klass(**kwargs)
        try:
            code, resp = conn.connect(self.host, self.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, resp)  # noqa: TRY301 - handled with the other greeting errors
            conn.ehlo_or_helo_if_needed()
            if self.use_tls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.username and self.password:
                conn.login(self.username, self.password)
        except smtplib.SMTPConnectError as exc:
            # The greeting was not 220: 4xx is this moment's trouble, 5xx is "no service".
            self._drop(conn)
            code = exc.smtp_code if 0 < exc.smtp_code < 1000 else None
            fault = Fault.UNAVAILABLE if code and code >= 500 else Fault.RECONNECT
            return Outcome(fault, code, f"connect: {exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPServerDisconnected as exc:
            # Accepted the TCP connection, then closed it or said nothing in time.
            self._drop(conn)
            return Outcome(Fault.RECONNECT, None, f"connect: {describe(exc)}")
        except (smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError) as exc:
            self._drop(conn)
            return Outcome(Fault.UNAVAILABLE, getattr(exc, "smtp_code", None), f"connect: {describe(exc)}")
        except NETWORK_ERRORS as exc:
            # Refused, unreachable, name not found, TLS handshake failed.
            self._drop(conn)
            return Outcome(Fault.UNAVAILABLE, None, f"connect: {describe(exc)}")
        # The message's terminator is a small write after its body (see send):
        # without NODELAY, Nagle's algorithm would hold it for the body's ACK.
        with contextlib.suppress(OSError):
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pipelining = settings.MAILINGS_SMTP_PIPELINING and conn.has_extn("pipelining")
        self.connection = conn
        return Outcome(Fault.OK, code, _text(resp))

    def send(self, from_addr: str, to_addr: str, message, *, before_data=None, smtputf8=False, then=None) -> Outcome:
        """Send one message (bytes) to one recipient on the open connection.

        before_data() is called before the server can accept the message
        (after RCPT, before DATA; pipelined, before the final "." line): the
        engine waits there for the previous message's attempt to be on record.
        smtputf8: the recipient's local part is not ASCII (see smtp_address).
        then: the next message's (from, to, smtputf8), announced with this
        message's end when pipelining; the next call must be for it, or the
        connection is dropped and opened again."""
        outcome = self.begin(from_addr, to_addr, message, before_data=before_data, smtputf8=smtputf8)
        if outcome is not None:
            return outcome
        if before_data is not None:
            try:
                before_data()
            except BaseException:
                self.abandon()
                raise
        self.end(then)
        return self.reply()

    def begin(self, from_addr: str, to_addr: str, message, *, before_data=None, smtputf8=False) -> Outcome | None:
        """Pipelined, everything of a message but its final "." line: None when
        the body is out and the message waits for end() and reply(); an Outcome
        when it ended before (refused, connection lost). Without PIPELINING the
        whole message is sent here, before_data() waited for before DATA."""
        if self.announced is not None and self.announced != (from_addr, to_addr, smtputf8):
            self._hang_up()  # another message's DATA may be open on the server: never end it
        conn = self.connection
        if conn is None:
            outcome = self.open()
            if not outcome.ok:
                return outcome
            conn = self.connection
        refused = _unsendable(conn, from_addr, to_addr, smtputf8)
        if refused is not None:
            return refused
        # Commands go out as UTF-8 only with SMTPUTF8 (RFC 6531).
        conn.command_encoding = "utf-8" if smtputf8 else "ascii"
        if self.pipelining:
            return self._begin_pipelined(conn, from_addr, to_addr, message, smtputf8=smtputf8)
        stage = "MAIL"
        try:
            # docmd, not mail()/rcpt(): the addresses are already plain, and
            # smtplib's address parsing costs more than a local round trip.
            code, resp = conn.docmd("mail", f"FROM:<{from_addr}>" + (" SMTPUTF8" if smtputf8 else ""))
            if code != 250:
                return self._refused(classify_reply(code, resp, stage))
            stage = "RCPT"
            code, resp = conn.docmd("rcpt", f"TO:<{to_addr}>")
            if code not in (250, 251):
                return self._refused(classify_reply(code, resp, stage))
            stage = "DATA"
            if before_data is not None:
                before_data()
            code, resp = conn.data(message)
        except smtplib.SMTPDataError as exc:
            return self._refused(classify_reply(exc.smtp_code, exc.smtp_error, stage))
        except NETWORK_ERRORS as exc:  # a lost connection (SMTPServerDisconnected) among them
            return self._lost(stage, exc)
        return self._accepted(code, resp, stage)

    def _begin_pipelined(self, conn, from_addr, to_addr, message, *, smtputf8) -> Outcome | None:
        """MAIL, RCPT and DATA in one write (RFC 2920; already sent when this
        message was announced), then their three replies in order. The first
        refusal is the outcome, classified as in `begin` (a 421, garbled reply
        or lost connection after it only costs the connection). Then the body,
        without its final "." line."""
        stage = "MAIL"
        try:
            if self.announced is None:
                conn.send(_envelope(from_addr, to_addr, smtputf8))
            self.announced = None
            refused, data_code = None, None
            for stage, accepted in (("MAIL", (250,)), ("RCPT", (250, 251)), ("DATA", (354,))):
                try:
                    code, resp = conn.getreply()
                except NETWORK_ERRORS:
                    if refused is None:
                        raise
                    self.close()
                    return refused
                data_code = code
                if code in accepted:
                    continue
                outcome = classify_reply(code, resp, stage)
                if outcome.fault == Fault.RECONNECT:
                    self.close()
                    return refused or outcome
                refused = refused or outcome
            if refused is not None:
                if data_code == 354:
                    # DATA accepted after a refused MAIL or RCPT (a broken server):
                    # hang up rather than send an empty message.
                    self.close()
                    return refused
                return self._refused(refused)
            body = smtplib._quote_periods(message)
            if body[-2:] != b"\r\n":
                body += b"\r\n"
            self.in_data = True
            conn.send(body)
        except NETWORK_ERRORS as exc:
            return self._lost(stage, exc)
        return None

    def end(self, then=None) -> None:
        """The final "." line of the message begun; the next message's MAIL,
        RCPT and DATA (`then`: from, to, smtputf8) go out with it. Its reply is
        read by reply()."""
        try:
            if then is not None and _unsendable(self.connection, *then) is None:
                self.connection.send(b".\r\n" + _envelope(*then))
                self.announced = then
            else:
                self.connection.send(b".\r\n")
        except NETWORK_ERRORS as exc:
            self.failed = exc  # the DATA may still be open: reply() hangs up
            return
        self.in_data = False

    def reply(self) -> Outcome:
        """The server's reply to the message ended by end()."""
        failed, self.failed = self.failed, None
        if failed is None:
            try:
                code, resp = self.connection.getreply()
            except NETWORK_ERRORS as exc:
                failed = exc
        if failed is not None:
            return self._lost("DATA", failed)
        return self._accepted(code, resp, "DATA")

    def abandon(self) -> None:
        """Drop the connection without ending a message begun: it is not sent."""
        self._hang_up()

    def _accepted(self, code, resp, stage) -> Outcome:
        """The reply to the message's end: 250, or a refusal classified at `stage`."""
        if code != 250:
            return self._refused(classify_reply(code, resp, stage))
        return Outcome(Fault.OK, code, _text(resp))

    def _lost(self, stage: str, exc: BaseException) -> Outcome:
        """The conversation broke at `stage`: a new connection for the next message."""
        self.close()
        return Outcome(Fault.RECONNECT, None, f"{stage}: {describe(exc)}")

    def _refused(self, outcome: Outcome) -> Outcome:
        if outcome.fault == Fault.RECONNECT:
            self.close()
            return outcome
        if self.announced is not None:
            return outcome  # the message's end closed its transaction; the next one is under way
        try:
            self.connection.rset()
        except NETWORK_ERRORS:
            self.close()
        return outcome

    def _drop(self, conn):
        with contextlib.suppress(NETWORK_ERRORS):
            conn.close()

    def _hang_up(self):
        """Close without QUIT: the server may be reading message text."""
        conn, self.connection, self.announced = self.connection, None, None
        self.pipelining, self.in_data, self.failed = False, False, None
        if conn is not None:
            self._drop(conn)

    def close(self):
        if self.announced is not None or self.in_data:
            # A begun or announced message may have its DATA open: ending it would send it.
            self._hang_up()
            return
        conn, self.connection = self.connection, None
        self.pipelining = False
        if conn is None:
            return
        try:
            conn.quit()
        except NETWORK_ERRORS:
            self._drop(conn)


class DjangoBackendTransport:
    """Hands messages to Django's configured (non-SMTP) email backend."""

    wants_bytes = False
    pipelining = False

    def __init__(self):
        self.backend = None

    @property
    def connected(self) -> bool:
        return self.backend is not None

    def open(self) -> Outcome:
        self.backend = get_connection(fail_silently=False)
        return Outcome(Fault.OK, 220, "django backend")

    def send(self, from_addr: str, to_addr: str, message, *, before_data=None, smtputf8=False, then=None) -> Outcome:
        if before_data is not None:
            before_data()
        if self.backend is None:
            self.open()
        try:
            sent = self.backend.send_messages([message])
        except NETWORK_ERRORS as exc:
            return Outcome(Fault.RECONNECT, None, describe(exc))
        if not sent:
            return Outcome(Fault.TEMPORARY, None, "backend sent nothing")
        return Outcome(Fault.OK, 250, f"accepted by {type(self.backend).__name__}")

    def begin(self, from_addr: str, to_addr: str, message, *, before_data=None, smtputf8=False) -> Outcome:
        """The whole message at once (see SMTPTransport.begin without PIPELINING)."""
        return self.send(from_addr, to_addr, message, before_data=before_data, smtputf8=smtputf8)

    def abandon(self) -> None:
        self.backend = None

    def close(self):
        self.backend = None


def get_transport():
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return SMTPTransport()
    return DjangoBackendTransport()


def send_one(from_addr: str, to_addr: str, payload) -> Outcome:
    """One email on a connection of its own (account emails, test messages).
    `payload(wants_bytes)` gives the message as bytes or as a Django message."""
    transport = get_transport()
    try:
        opened = transport.open()
        if not opened.ok:
            return opened
        return transport.send(from_addr, to_addr, payload(transport.wants_bytes))
    except NETWORK_ERRORS as exc:
        return Outcome(Fault.RECONNECT, None, f"{type(exc).__name__}: {exc}")
    finally:
        transport.close()
