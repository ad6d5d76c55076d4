"""The message of a mailing as email: compiled once, then bytes per recipient.

Each email is multipart/alternative (text, then HTML), quoted-printable, with
From "<sender name>" <the site's sending address>, Reply-To the customer's
verified address, and RFC 8058 one-click unsubscribe headers whose URL is
signed for that recipient. The Markdown, the sanitiser, the layout and the
fixed headers cost their time once per message; each recipient only costs
filling slots, encoding and (if configured) the DKIM signature.
"""

import binascii
import ipaddress
import secrets
import time
from email.headerregistry import Address
from email.message import EmailMessage as PyEmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from mailings import subscriptions
from mailings.engine.dkim_signing import signer as dkim_signer
from mailings.rendering import CompiledMessage, Recipient

__all__ = ["MailBuilder", "site_domain", "to_header"]


def sending_address() -> tuple[str, str]:
    """(display name, address) of DEFAULT_FROM_EMAIL: the site's own sending address."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)


def site_domain() -> str:
    """The site's domain for Message-IDs: SITE_URL's host when it is a real
    name, else the domain of DEFAULT_FROM_EMAIL (never the machine's host name)."""
    host = (urlsplit(settings.SITE_URL).hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." in host:
            return host.encode("idna").decode("ascii")
    domain = sending_address()[1].rpartition("@")[2]
    return domain.encode("idna").decode("ascii") if domain else "mailsite.invalid"


def to_header(email: str, name: str = "") -> str:
    """`email` as the engine sends it (see transport.smtp_address): ASCII, or
    UTF-8 in its local part when the server takes SMTPUTF8."""
    name = " ".join((name or "").split())
    if not name:
        return email
    if email.isascii():
        return formataddr((name, email), charset="utf-8")
    # formataddr encodes only ASCII addresses: the name as it makes it, the address as it is.
    return formataddr((name, "a@a"), charset="utf-8")[: -len("<a@a>")] + f"<{email}>"


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"), istext=True)


class MailBuilder:
    """One message of one owner, ready to be sent to many recipients."""

    def __init__(self, *, message, owner, subject: str | None = None):
        default_name, address = sending_address()
        self.from_name = owner.mail_sender_name or default_name
        self.from_header = formataddr((self.from_name, address), charset="utf-8") if self.from_name else address
        self.envelope_from = address
        self.reply_to = owner.mail_reply_to
        self.owner_id = owner.pk
        # One line whatever was stored: a line break in a header would break the whole email.
        self.subject = " ".join((message.subject if subject is None else subject).split())
        self.compiled = CompiledMessage(
            subject=self.subject,
            body=message.body,
            body_format=message.body_format,
            sender_name=self.from_name,
        )
        self.domain = site_domain()
        self.unsubscribe_prefix = subscriptions.url_prefix()
        self.mailto = f"unsubscribe@{address.rpartition('@')[2] or self.domain}"
        self.boundary = f"=_mailsite_{secrets.token_hex(8)}"
        self.head = self._fixed_headers()
        self.dkim = dkim_signer()
        self._date_second = None
        self._date = b""

    def _fixed_headers(self) -> bytes:
        msg = PyEmailMessage(policy=SMTP)
        msg["From"] = self.from_header
        if self.reply_to:
            msg["Reply-To"] = Address(addr_spec=self.reply_to)
        msg["Subject"] = self.subject
        msg["MIME-Version"] = "1.0"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        head = msg.as_bytes().partition(b"\r\n\r\n")[0]
        return head + f'\r\nContent-Type: multipart/alternative; boundary="{self.boundary}"'.encode()

    def date_header(self) -> bytes:
        now = int(time.time())
        if now != self._date_second:
            self._date_second = now
            self._date = formatdate(now, localtime=settings.EMAIL_USE_LOCALTIME).encode()
        return self._date

    def message_id(self, key: str) -> str:
        # Stable per delivery: a message repeated after a crash carries the same Message-ID.
        return f"<mailsite.{key}@{self.domain}>"

    def recipient(self, *, email: str, name: str, client_id: int | None) -> Recipient:
        url = subscriptions.unsubscribe_url(self.owner_id, client_id, prefix=self.unsubscribe_prefix)
        return Recipient(email=email, full_name=name or "", unsubscribe_url=url)

    def list_unsubscribe(self, url: str) -> str:
        token = url.rstrip("/").rpartition("/")[2]
        return f"<{url}>, <mailto:{self.mailto}?subject=unsubscribe%20{token}>"

    def render(self, *, email: str, name: str = "", client_id: int | None, key: str, fill=None) -> bytes:
        """The whole email, as bytes with CRLF line ends, for one recipient.
        `fill` (a Recipient) fills the placeholders instead, for a test message."""
        recipient = fill or self.recipient(email=email, name=name, client_id=client_id)
        text, html = self.compiled.render(recipient)
        boundary = self.boundary.encode()
        part_head = b'\r\nContent-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        message = b"".join(
            (
                self.head,
                b"\r\nTo: ",
                to_header(email, name).encode("utf-8"),
                b"\r\nDate: ",
                self.date_header(),
                b"\r\nMessage-ID: ",
                self.message_id(key).encode(),
                b"\r\nList-Unsubscribe: ",
                self.list_unsubscribe(recipient.unsubscribe_url).encode(),
                b"\r\n\r\n--",
                boundary,
                part_head % b"plain",
                _qp(text),
                b"\r\n--",
                boundary,
                part_head % b"html",
                _qp(html),
                b"\r\n--",
                boundary,
                b"--\r\n",
            )
        )
        return self.dkim.sign(message) if self.dkim else message

    def render_message(
        self, *, email: str, name: str = "", client_id: int | None, key: str, fill=None
    ) -> EmailMultiAlternatives:
        """The same email as a Django message, for non-SMTP backends (locmem in tests, console)."""
        recipient = fill or self.recipient(email=email, name=name, client_id=client_id)
        text, html = self.compiled.render(recipient)
        headers = {
            "Message-ID": self.message_id(key),
            "List-Unsubscribe": self.list_unsubscribe(recipient.unsubscribe_url),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        msg = EmailMultiAlternatives(
            self.subject,
            text,
            self.from_header,
            [to_header(email, name)],
            headers=headers,
            reply_to=[self.reply_to] if self.reply_to else None,
        )
        msg.attach_alternative(html, "text/html")
        return msg
