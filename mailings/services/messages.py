"""Writes to messages, and the owner's test message to themself."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_q.tasks import async_task

from mailings.models import (
    BodyFormat,
    Client,
    Message,
)
from mailings.services.permissions import grant_owner_perms, owned_or_error

logger = logging.getLogger(__name__)

TEST_SEND_KEY_PREFIX = "mailings:test-send:"


# --- Messages ---------------------------------------------------------------------


class MessageInUseError(ValidationError):
    pass


@transaction.atomic
def message_create(*, owner, subject: str, body: str, body_format: str = BodyFormat.MARKDOWN) -> Message:
    message = Message.objects.create(owner=owner, subject=subject.strip(), body=body, body_format=body_format)
    grant_owner_perms(message, owner)
    return message


@transaction.atomic
def message_update(*, message: Message, subject: str, body: str, body_format: str = BodyFormat.MARKDOWN) -> Message:
    message.subject = subject.strip()
    message.body = body
    message.body_format = body_format
    message.save()
    # A later run sends the new text; nothing to reschedule.
    return message


def message_send_test(*, message: Message, client: Client | None = None) -> bool:
    """Queue a test of the message to its owner's own (verified) address,
    rendered for `client`. False when the owner sent one a moment ago."""
    if client is not None:
        owned_or_error(client, message.owner, _("A client"))
    key = f"{TEST_SEND_KEY_PREFIX}{message.owner_id}"
    if cache.add(key, 1, timeout=settings.MAILINGS_TEST_SEND_THROTTLE_SECONDS) is False:
        return False
    transaction.on_commit(
        lambda: async_task(
            "mailings.tasks.send_sample", message.pk, client.pk if client else None, group="mailings-test"
        )
    )
    return True


@transaction.atomic
def message_delete(*, message: Message) -> None:
    try:
        message.delete()
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        raise MessageInUseError(
            ngettext(
                "This message is used by %(count)s mailing; delete or change it first.",
                "This message is used by %(count)s mailings; delete or change them first.",
                count,
            ),
            code="in_use",
            params={"count": count},
        ) from exc
