"""Account emails (verification, password reset) leave through django-q2, never
from a web request, and through the sending engine's transport: the same
fault classification as mailings. A temporary failure (4xx, a slow or silent
or unreachable server) is retried later with exponential backoff by a one-off
django-q2 schedule, up to MAILINGS_MAX_TRIES; a permanent one (5xx) is logged.
"""

import logging
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

from mailings.engine import Outcome, backoff, send_one, site_domain

logger = logging.getLogger(__name__)


def send_email_later(*, to: str, subject: str, body: str) -> None:
    """Queue one email; the django-q2 worker sends it."""
    async_task("core.emails.deliver_email", to=to, subject=subject, body=body, group="account-email")


def _send(message: EmailMessage) -> Outcome:
    def payload(wants_bytes):
        return message.message().as_bytes(linesep="\r\n") if wants_bytes else message

    return send_one(parseaddr(message.from_email)[1], parseaddr(message.to[0])[1], payload)


def deliver_email(*, to: str, subject: str, body: str, attempt: int = 1) -> str:
    """Send one account email now; schedule a retry on a temporary failure.
    Returns "sent", "retry" or "failed" (django-q2 keeps it as the result)."""
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        # The site's domain, not the worker's host name (Django's default).
        headers={"Message-ID": make_msgid(domain=site_domain())},
    )
    outcome = _send(message)
    if outcome.ok:
        logger.info("Account email to %s sent (try %s): %s", to, attempt, outcome.reply)
        return "sent"
    if outcome.temporary and attempt < settings.MAILINGS_MAX_TRIES:
        delay = backoff(attempt, base=settings.MAILINGS_RETRY_BASE_SECONDS, cap=settings.MAILINGS_RETRY_MAX_SECONDS)
        schedule(
            "core.emails.deliver_email",
            to=to,
            subject=subject,
            body=body,
            attempt=attempt + 1,
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + delay,
            q_options={"group": "account-email"},
        )
        logger.warning("Account email to %s failed (try %s), retrying in %s: %s", to, attempt, delay, outcome.reply)
        return "retry"
    logger.error("Account email to %s failed for good (try %s): %s", to, attempt, outcome.reply)
    return "failed"
