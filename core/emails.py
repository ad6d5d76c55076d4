"""Account emails (verification, password reset, new address) never leave
from a web request. `send_email_later` keeps the email in the outbox table
(core.OutgoingEmail) in the caller's transaction and wakes the worker
when it commits; the worker's `deliver_outgoing_emails` sends every due row
through the sending engine's transport (the same fault classification as
mailings), and runs every minute too, so an email waits out a broker outage
instead of being lost.

A row is leased by moving its `next_try_at` forward before it is sent: two
workers never send it at once, and one that dies mid-send leaves it due again
after the lease. A temporary failure (4xx, a slow, silent or unreachable
server) is retried with exponential backoff up to MAILINGS_MAX_TRIES; a
permanent one (5xx) is kept as failed with the server's reply.
"""

import logging
from datetime import timedelta
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_q.conf import Conf

from core.models import OutgoingEmail
from mailings.engine import Outcome, backoff, enqueue, send_one, site_domain

logger = logging.getLogger(__name__)

DELIVER_TASK = "core.emails.deliver_outgoing_emails"
BATCH = 20


def _wake() -> None:
    enqueue(DELIVER_TASK, group="account-email")


def send_email_later(*, to: str, subject: str, body: str) -> OutgoingEmail:
    """Keep one email in the outbox; the worker sends it once this transaction commits."""
    email = OutgoingEmail.objects.create(to=to, subject=subject, body=body)
    if Conf.SYNC:
        _wake()  # tasks run here, inside this transaction: the task sees the new row
    else:
        transaction.on_commit(_wake, robust=True)
    return email


def _claim(limit: int) -> list[OutgoingEmail]:
    now = timezone.now()
    lease = timedelta(seconds=max(60.0, 3 * settings.EMAIL_TIMEOUT))
    with transaction.atomic():
        ids = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(state=OutgoingEmail.State.PENDING, next_try_at__lte=now)
            .order_by("next_try_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        OutgoingEmail.objects.filter(pk__in=ids).update(next_try_at=now + lease)
    return list(OutgoingEmail.objects.filter(pk__in=ids).order_by("pk"))


def _send(message: EmailMessage) -> Outcome:
    def payload(wants_bytes):
        return message.message().as_bytes(linesep="\r\n") if wants_bytes else message

    return send_one(parseaddr(message.from_email)[1], parseaddr(message.to[0])[1], payload)


def deliver(email: OutgoingEmail) -> str:
    """Send one email of the outbox now; its new state ("sent", "pending" for a retry, "failed")."""
    # A Message-ID on the site's domain, not the worker's host name (Django's default).
    headers = {"Message-ID": make_msgid(domain=site_domain())}
    outcome = _send(EmailMessage(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to], headers=headers))
    email.tries += 1
    email.last_reply = outcome.reply[:2000]
    if outcome.ok:
        email.state, email.sent_at = OutgoingEmail.State.SENT, timezone.now()
        logger.info("Account email to %s sent (try %s): %s", email.to, email.tries, outcome.reply)
    elif outcome.temporary and email.tries < settings.MAILINGS_MAX_TRIES:
        delay = backoff(email.tries, base=settings.MAILINGS_RETRY_BASE_SECONDS, cap=settings.MAILINGS_RETRY_MAX_SECONDS)
        email.next_try_at = timezone.now() + delay
        logger.warning(
            "Account email to %s failed (try %s), retrying in %s: %s", email.to, email.tries, delay, outcome.reply
        )
    else:
        email.state = OutgoingEmail.State.FAILED
        logger.error("Account email to %s failed for good (try %s): %s", email.to, email.tries, outcome.reply)
    email.save(update_fields=["state", "tries", "last_reply", "next_try_at", "sent_at"])
    return email.state


def deliver_outgoing_emails(limit: int = 500) -> dict:
    """The worker's task (each wake-up, and every minute): send the due emails of the outbox."""
    counts = dict.fromkeys(OutgoingEmail.State.values, 0)
    done = 0
    while done < limit and (batch := _claim(min(BATCH, limit - done))):
        for email in batch:
            counts[deliver(email)] += 1
        done += len(batch)
    return counts


def deliver_email(*, to: str, subject: str, body: str, attempt: int = 1) -> str:
    """Retries scheduled before the outbox existed join the outbox."""
    send_email_later(to=to, subject=subject, body=body)
    return "queued"
