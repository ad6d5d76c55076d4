"""A demo mailing email through SpamAssassin's local tests (`spamassassin -L -t`).

Run by .ci/run as its own stage (marker `spamfilter`); needs Debian's
spamassassin. Fails when the score reaches MAX_SCORE; prints the score and
the rules hit either way.
"""

import base64
import re
import subprocess
from email import message_from_bytes, policy
from types import SimpleNamespace

import pytest

from mailings.demo import DEMO_CLIENTS, DEMO_MESSAGES, DEMO_SENDER_NAME
from mailings.engine import MailBuilder

pytestmark = pytest.mark.spamfilter

MAX_SCORE = 2.0
STATUS = re.compile(r"^X-Spam-Status: \w+, score=(?P<score>-?[\d.]+)", re.MULTILINE)
DETAILS = re.compile(r"Content analysis details:.*?\n\n(?P<table>.*?)(?:\n\n|\Z)", re.DOTALL)


@pytest.fixture
def dkim_key(settings, tmp_path):
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], check=True, capture_output=True
    ).stdout
    (tmp_path / "dkim.pem").write_bytes(pem)
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "mailsite.example", "demo"
    settings.DKIM_PRIVATE_KEY, settings.DKIM_PRIVATE_KEY_FILE = "", str(tmp_path / "dkim.pem")
    return base64.b64encode(pem).decode()


def demo_email() -> bytes:
    subject, body = DEMO_MESSAGES[0]
    owner = SimpleNamespace(pk=1, mail_sender_name=DEMO_SENDER_NAME, mail_reply_to="hello@northwind.example")
    message = SimpleNamespace(subject=subject, body=body, body_format="markdown")
    email, name, _comment = DEMO_CLIENTS[0]
    builder = MailBuilder(message=message, owner=owner)
    return builder.render(email=email, name=name, client_id=1, key="r1.d1")


def test_a_demo_mailing_scores_low_in_spamassassin(settings, dkim_key):
    settings.SITE_URL = "https://mailsite.example"
    settings.DEFAULT_FROM_EMAIL = "Mailsite <news@mailsite.example>"
    raw = demo_email()
    mail = message_from_bytes(raw, policy=policy.default)
    for header in ("DKIM-Signature", "List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To", "Message-ID"):
        assert mail[header], header
    assert {part.get_content_type() for part in mail.iter_parts()} == {"text/plain", "text/html"}
    result = subprocess.run(["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=300, check=True)
    output = result.stdout.decode("utf-8", "replace")
    status = STATUS.search(output)
    assert status, output[:2000]
    score = float(status["score"])
    details = DETAILS.search(output)
    rules = details["table"] if details else "(no report)"
    print(f"\nSpamAssassin score {score} (the check fails at {MAX_SCORE}); rules hit:\n{rules}")
    assert score < MAX_SCORE, f"score {score}:\n{rules}"
