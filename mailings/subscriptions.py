"""Who may be mailed: unsubscribe links, suppression and its reversal.

An unsubscribe token is signed (django.core.signing) and names one owner and
one client, so it works only for that client of that owner. It never expires:
a link in an old email must keep working.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mailings.models import Client, UnsubscribeSource
from mailings.signals import mailings_changed

SALT = "mailings.unsubscribe"
# A test message to the owner carries this client id: its link unsubscribes nobody.
TEST_CLIENT_ID = 0

_signer = signing.Signer(salt=SALT, sep=".")


class BadTokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenScope:
    owner_id: int
    client_id: int

    @property
    def is_test(self) -> bool:
        return self.client_id == TEST_CLIENT_ID


def make_token(owner_id: int, client_id: int | None) -> str:
    return _signer.sign(f"{owner_id}.{client_id or TEST_CLIENT_ID}")


def read_token(token: str) -> TokenScope:
    try:
        owner_id, client_id = _signer.unsign(token).split(".")
        return TokenScope(int(owner_id), int(client_id))
    except (signing.BadSignature, ValueError) as exc:
        raise BadTokenError(token) from exc


def url_prefix() -> str:
    """The unsubscribe URL up to the token; computed once per message, not per recipient."""
    return settings.SITE_URL.rstrip("/") + reverse("unsubscribe", args=["TOKEN"]).replace("TOKEN/", "")


def unsubscribe_url(owner_id: int, client_id: int | None, *, prefix: str | None = None) -> str:
    return f"{prefix or url_prefix()}{make_token(owner_id, client_id)}/"


def client_for_token(scope: TokenScope) -> Client | None:
    return Client.objects.filter(pk=scope.client_id, owner_id=scope.owner_id).first()


def _update(client: Client, **fields) -> Client:
    for name, value in fields.items():
        setattr(client, name, value)
    client.save(update_fields=[*fields, "updated_at"])
    transaction.on_commit(lambda: mailings_changed.send(sender=Client, owner=client.owner))
    return client


@transaction.atomic
def client_unsubscribe(*, client: Client, source: str) -> Client:
    """Leave the client out of every later run; the first unsubscribe's time and source stay."""
    if client.unsubscribed_at is not None:
        return client
    return _update(client, unsubscribed_at=timezone.now(), unsubscribe_source=UnsubscribeSource(source))


@transaction.atomic
def client_resubscribe(*, client: Client) -> Client:
    """The explicit way back: the owner (or the recipient on their own page) confirmed it."""
    return _update(client, unsubscribed_at=None, unsubscribe_source="")


@transaction.atomic
def client_clear_bounce(*, client: Client) -> Client:
    return _update(client, bounced_at=None, hard_bounces=0, bounce_reply="")
