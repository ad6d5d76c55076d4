"""Background work on django-q2: the entry points of the sending engine.

Each task is a thin wrapper around `mailings.engine`. The engine classifies
every mail-server fault itself; the guard below catches only what is left from
the database and the network, logs it and returns a note (the minute
dispatcher picks the work up again from the database). Anything else is a bug:
it fails the task, so django-q2 lists it among the failed tasks.
"""

import logging
import smtplib

from django.db import DatabaseError, InterfaceError

from mailings import engine

logger = logging.getLogger(__name__)

# Outages, not bugs: the database or the network went away (ssl.SSLError and
# socket timeouts are OSErrors).
TASK_ERRORS = (DatabaseError, InterfaceError, smtplib.SMTPException, OSError)


def dispatch_due():
    """Every minute (schedule "mailings.dispatch_due")."""
    try:
        summary = engine.dispatch_due()
    except TASK_ERRORS:
        logger.exception("dispatch_due failed; the next minute tries again")
        return "error"
    return {key: len(value) if isinstance(value, list) else value for key, value in summary.items()}


def dispatch_mailing(mailing_id: int):
    """A mailing's wake-up, or a change that makes it due now."""
    try:
        run = engine.dispatch_mailing(mailing_id)
    except TASK_ERRORS:
        logger.exception("dispatch_mailing(%s) failed; the dispatcher tries again", mailing_id)
        return "error"
    return run.pk if run else None


def send_chunk(run_id: int):
    """One chunk of a run over one SMTP connection."""
    try:
        result = engine.send_chunk(run_id)
    except TASK_ERRORS:
        logger.exception("send_chunk(%s) failed; its claims go stale and are taken back", run_id)
        return "error"
    return {"run": run_id, "claimed": result.claimed, "sent": result.sent, "retry": result.retry}


def send_sample(message_id: int, client_id: int | None = None):
    """A test message to the message's owner (see mailings.engine.sample)."""
    try:
        outcome = engine.send_sample(message_id=message_id, client_id=client_id)
    except TASK_ERRORS:
        logger.exception("send_sample(%s) failed", message_id)
        return "error"
    return outcome.reply
