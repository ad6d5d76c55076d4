"""A test message to the customer: the real email, rendered for one of their
clients, sent to the customer's own verified address. No run, no delivery,
no attempt: it is in no report."""

import logging

from django.utils.translation import gettext as _

from mailings.engine.message import MailBuilder
from mailings.engine.transport import Fault, Outcome, send_one
from mailings.models import Client, Message

logger = logging.getLogger(__name__)


def send_sample(*, message_id: int, client_id: int | None = None) -> Outcome:
    message = Message.objects.select_related("owner").filter(pk=message_id).first()
    if message is None:
        return Outcome(Fault.PERMANENT, None, "the message is gone")
    owner = message.owner
    client = Client.objects.filter(pk=client_id, owner=owner).first() if client_id else None
    subject = _("[Test] %(subject)s") % {"subject": message.subject}
    builder = MailBuilder(message=message, owner=owner, subject=subject)
    # Personalised for the chosen client (else the owner); its unsubscribe link unsubscribes nobody.
    fill = builder.recipient(
        email=client.email if client else owner.email,
        name=client.full_name if client else owner.get_full_name(),
        client_id=None,
    )
    key = f"test.m{message.pk}.{builder.boundary[-8:]}"
    kwargs = {"email": owner.email, "name": owner.get_full_name(), "client_id": None, "key": key, "fill": fill}

    def payload(wants_bytes):
        return builder.render(**kwargs) if wants_bytes else builder.render_message(**kwargs)

    outcome = send_one(builder.envelope_from, owner.email, payload)
    logger.info("Test message %s to %s: %s", message.pk, owner.email, outcome.reply)
    return outcome
