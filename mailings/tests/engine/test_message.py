"""The message of a mailing as email (engine/message.py): parts, headers, Message-ID domain, DKIM."""

import base64
import re
import subprocess
from email import message_from_bytes, policy
from types import SimpleNamespace

import dkim
import pytest

from mailings.engine import MailBuilder, site_domain

OWNER = SimpleNamespace(pk=7, mail_sender_name="Acme Ltd", mail_reply_to="sales@acme.example")
MESSAGE = SimpleNamespace(subject="Spring news", body="Hello {{ first_name }}!", body_format="markdown")


def build(**kwargs):
    builder = MailBuilder(message=MESSAGE, owner=OWNER)
    raw = builder.render(email="ann@example.org", name="Ann Lee", client_id=11, key="r1.d2", **kwargs)
    return raw, message_from_bytes(raw, policy=policy.default)


def test_one_email_has_both_parts_and_the_deliverability_headers(settings):
    settings.DEFAULT_FROM_EMAIL = "Mailsite <news@send.mailsite.example>"
    settings.SITE_URL = "https://mailsite.example"
    raw, mail = build()
    assert mail.get_content_type() == "multipart/alternative"
    assert "Hello Ann!" in mail.get_body(("plain",)).get_content()
    assert "Hello Ann!" in mail.get_body(("html",)).get_content()
    sender = mail["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Acme Ltd", "news@send.mailsite.example")
    assert mail["Reply-To"] == "sales@acme.example"
    assert mail["To"] == "Ann Lee <ann@example.org>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (part.strip(" <>") for part in mail["List-Unsubscribe"].split(","))
    assert re.fullmatch(r"https://mailsite\.example/unsubscribe/7\.11\.[\w-]+/", https)
    assert mailto.startswith("mailto:unsubscribe@send.mailsite.example?subject=")
    assert https in mail.get_body(("plain",)).get_content()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


@pytest.mark.parametrize(
    ("site_url", "from_email", "domain"),
    [
        ("https://mail.acme.example", "noreply@other.example", "mail.acme.example"),
        ("http://127.0.0.1:8000", "Mailsite <noreply@mailsite.example>", "mailsite.example"),
        ("http://localhost:8000", "noreply@mailsite.example", "mailsite.example"),
        ("https://почта.example", "noreply@mailsite.example", "xn--80a1acny.example"),
    ],
)
def test_the_message_id_uses_the_sites_domain_not_the_host_name(settings, site_url, from_email, domain):
    settings.SITE_URL = site_url
    settings.DEFAULT_FROM_EMAIL = from_email
    assert site_domain() == domain
    _raw, mail = build()
    assert mail["Message-ID"] == f"<mailsite.r1.d2@{domain}>"


@pytest.fixture(scope="module")
def rsa_key():
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        check=True,
        capture_output=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem, check=True, capture_output=True
    ).stdout
    return pem, base64.b64encode(der).decode()


def test_with_dkim_settings_every_email_is_signed_and_verifies(settings, rsa_key, tmp_path):
    pem, public = rsa_key
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(pem)
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "mailsite.example", "mail2026"
    settings.DKIM_PRIVATE_KEY, settings.DKIM_PRIVATE_KEY_FILE = "", str(key_file)
    raw, mail = build()
    signature = mail["DKIM-Signature"]
    assert "d=mailsite.example" in signature
    assert "s=mail2026" in signature
    signed = re.search(r"h=([^;]+)", signature.replace("\r\n", "").replace(" ", "")).group(1).lower().split(":")
    for header in ("from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"):
        assert header in signed

    def dns(name, timeout=5):
        assert name == b"mail2026._domainkey.mailsite.example."
        return f"v=DKIM1; k=rsa; p={public}".encode()

    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Spring news", b"Autumn news"), dnsfunc=dns)


def test_without_dkim_settings_nothing_is_signed(settings):
    settings.DKIM_DOMAIN = ""
    _raw, mail = build()
    assert mail["DKIM-Signature"] is None
