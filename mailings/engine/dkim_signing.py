"""DKIM signatures (dkimpy) for every outgoing mailing email, when configured.

Set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY (PEM text) or
DKIM_PRIVATE_KEY_FILE; the public key goes in DNS at
<selector>._domainkey.<domain>. Without them mail goes out unsigned.
"""

from functools import lru_cache
from pathlib import Path

import dkim
from django.conf import settings

# What the signature covers (RFC 6376 §5.4; Gmail and Yahoo want From, plus the unsubscribe headers).
SIGNED_HEADERS = (
    b"from", b"reply-to", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
    b"list-unsubscribe", b"list-unsubscribe-post",
)  # fmt: skip


@lru_cache(maxsize=4)
def _read_key(inline: str, path: str) -> bytes:
    if inline:
        return inline.replace("\\n", "\n").encode()
    return Path(path).read_bytes()


def private_key() -> bytes | None:
    if not (settings.DKIM_DOMAIN and settings.DKIM_SELECTOR):
        return None
    if not (settings.DKIM_PRIVATE_KEY or settings.DKIM_PRIVATE_KEY_FILE):
        return None
    return _read_key(settings.DKIM_PRIVATE_KEY, str(settings.DKIM_PRIVATE_KEY_FILE))


class Signer:
    def __init__(self, key: bytes):
        self.key = key
        self.domain = settings.DKIM_DOMAIN.encode()
        self.selector = settings.DKIM_SELECTOR.encode()

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header in front."""
        header = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return header + message


def signer() -> Signer | None:
    key = private_key()
    return Signer(key) if key else None
