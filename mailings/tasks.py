"""Background work on django-q2: the entry points of the sending engine.

Each task is a thin wrapper around `mailings.sending`. Nothing escapes a task:
the engine classifies every mail-server fault itself; the guard below catches
what is left from the database and the network, logs it and returns a note
(the minute dispatcher picks the work up again from the database).
"""

import logging
import smtplib
import ssl

from django.db import DatabaseError

from mailings import sending

logger = logging.getLogger(__name__)

# The last-resort guard of a task entry point: named, not a blind `except Exception`.
TASK_ERRORS = (DatabaseError, smtplib.SMTPException, OSError, ssl.SSLError, LookupError, ValueError, TypeError)


def dispatch_due():
    """Every minute (schedule "mailings.dispatch_due")."""
    try:
        summary = sending.dispatch_due()
    except TASK_ERRORS:
        logger.exception("dispatch_due failed; the next minute tries again")
        return "error"
    return {key: len(value) if isinstance(value, list) else value for key, value in summary.items()}


def dispatch_mailing(mailing_id: int):
    """A mailing's wake-up, or a change that makes it due now."""
    try:
        run = sending.dispatch_mailing(mailing_id)
    except TASK_ERRORS:
        logger.exception("dispatch_mailing(%s) failed; the dispatcher tries again", mailing_id)
        return "error"
    return run.pk if run else None


def send_chunk(run_id: int):
    """One chunk of a run over one SMTP connection."""
    try:
        result = sending.send_chunk(run_id)
    except TASK_ERRORS:
        logger.exception("send_chunk(%s) failed; its claims go stale and are taken back", run_id)
        return "error"
    return {"run": run_id, "claimed": result.claimed, "sent": result.sent, "retry": result.retry}


def send_sample(message_id: int, client_id: int | None = None):
    """A test message to the message's owner (see mailings.engine.sample)."""
    from mailings.engine.sample import send_sample as send

    try:
        outcome = send(message_id=message_id, client_id=client_id)
    except TASK_ERRORS:
        logger.exception("send_sample(%s) failed", message_id)
        return "error"
    return outcome.reply
