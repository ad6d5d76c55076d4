"""Signed links that verify an email address.

A link carries the user's id, the address to verify and a fingerprint of the
account's state (its current address and whether that address is verified;
for the mailings' reply-to address, that address and its verified flag).
Using the link changes that state, so a link works once; the signature's
timestamp makes it expire after settings.ACCOUNT_VERIFICATION_MAX_AGE.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

SALT = "accounts.verify-email"


class TokenError(Exception):
    """A verification link that cannot be used; `reason` says why."""

    EXPIRED = "expired"
    INVALID = "invalid"
    USED = "used"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Verification:
    user: User
    email: str


class EmailLink:
    """Signed one-use links that prove someone reads an address.

    `state(user)` is the part of the account the link changes (for the
    account email: its address and whether it is verified), so opening the
    link makes every earlier link for the same purpose stale."""

    def __init__(self, salt: str, state):
        self.salt = salt
        self.state = state

    def _fingerprint(self, user: User) -> str:
        return salted_hmac(self.salt, f"{user.pk}|{self.state(user)}").hexdigest()[:20]

    def make(self, user: User, email: str) -> str:
        return signing.dumps({"u": user.pk, "e": email, "s": self._fingerprint(user)}, salt=self.salt)

    def read(self, token: str) -> Verification:
        try:
            data = signing.loads(token, salt=self.salt, max_age=settings.ACCOUNT_VERIFICATION_MAX_AGE)
        except signing.SignatureExpired as exc:
            raise TokenError(TokenError.EXPIRED) from exc
        except signing.BadSignature as exc:
            raise TokenError(TokenError.INVALID) from exc
        if not isinstance(data, dict) or not {"u", "e", "s"} <= data.keys():
            raise TokenError(TokenError.INVALID)
        user = User.objects.filter(pk=data["u"]).first()
        if user is None or not constant_time_compare(data["s"], self._fingerprint(user)):
            raise TokenError(TokenError.USED)
        return Verification(user=user, email=data["e"])


ACCOUNT_EMAIL = EmailLink(SALT, lambda user: f"{user.email}|{user.is_verified}")
REPLY_TO = EmailLink("accounts.verify-reply-to", lambda user: f"{user.reply_to_email}|{user.reply_to_verified}")


def make_verification_token(user: User, *, email: str | None = None) -> str:
    """A link token for `email` (the user's own address by default, or a new one)."""
    return ACCOUNT_EMAIL.make(user, email or user.email)


def read_verification_token(token: str) -> Verification:
    return ACCOUNT_EMAIL.read(token)


# --- API tokens ---------------------------------------------------------------------
# An API token is `msk_<prefix>_<secret>`: the prefix is shown on the profile
# page to tell tokens apart; only the SHA-256 of the whole string is stored, so
# a database leak gives nobody a working token. The secret carries 256 bits of
# entropy, so a fast unsalted hash is enough.
API_TOKEN_TAG = "msk"
API_TOKEN_MAX_LENGTH = 200


def new_api_token_secret() -> tuple[str, str]:
    """(prefix, secret) for a new API token."""
    prefix = secrets.token_hex(4)
    return prefix, f"{API_TOKEN_TAG}_{prefix}_{secrets.token_urlsafe(32)}"


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_token(secret: str) -> bool:
    return bool(secret) and len(secret) <= API_TOKEN_MAX_LENGTH and secret.startswith(f"{API_TOKEN_TAG}_")
