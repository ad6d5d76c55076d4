"""Account emails (verification, password reset) leave through django-q2, never
from a web request."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def send_email_later(*, to: str, subject: str, body: str) -> None:
    """Queue one email; the django-q2 worker sends it."""
    async_task("mailsite.emails.deliver_email", to=to, subject=subject, body=body, group="account-email")


def deliver_email(*, to: str, subject: str, body: str) -> None:
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.send()
