"""Writes to mailings: the owner's create, edit, delete and controls, the managers'
disable and enable, and retrying a run's failed recipients."""

import logging

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from mailings import engine, selectors, transitions
from mailings.models import (
    Mailing,
    Message,
    Run,
)
from mailings.services.permissions import grant_owner_perms, owned_or_error
from mailings.transitions import OwnerAction

logger = logging.getLogger(__name__)


@transaction.atomic
def mailing_disable(*, mailing: Mailing, by, reason: str) -> Mailing:
    """A manager turns a mailing off: it starts nothing new and a run in progress stops."""
    mailing.is_active = False
    mailing.disabled_at = timezone.now()
    mailing.disabled_by = by
    mailing.disabled_reason = reason
    mailing.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason", "updated_at"])
    # The audit trail is written here so that every path (admin, command) logs.
    log(instance=mailing, action="mailsite.mailing.disable", user=by, data={"reason": reason})
    _replan_after_commit(mailing)
    return mailing


@transaction.atomic
def mailing_enable(*, mailing: Mailing, by) -> Mailing:
    mailing.is_active = True
    mailing.disabled_at = None
    mailing.disabled_by = None
    mailing.disabled_reason = ""
    mailing.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason", "updated_at"])
    log(instance=mailing, action="mailsite.mailing.enable", user=by, data={})
    _replan_after_commit(mailing)
    return mailing


# --- Mailings ---------------------------------------------------------------------


def _set_recipients(mailing: Mailing, *, clients, all_clients: bool) -> None:
    """Replace the mailing's recipients; "all my clients" is resolved here, in the database."""
    through = Mailing.clients.through
    through.objects.filter(mailing_id=mailing.pk).delete()
    if all_clients:
        _add_all_owned_clients(mailing)
        return
    for client in clients:
        owned_or_error(client, mailing.owner, _("A client"))
    through.objects.bulk_create(through(mailing_id=mailing.pk, client_id=client.pk) for client in clients)


def _add_all_owned_clients(mailing: Mailing) -> None:
    """INSERT ... SELECT from the owner's selector: 100,000 recipients in one statement, no rows in Python."""
    through = Mailing.clients.through._meta
    qn = connection.ops.quote_name
    owned = selectors.owned_clients(mailing.owner).annotate(recipient_id=F("pk")).values("recipient_id")
    owned_sql, owned_params = owned.query.sql_with_params()
    columns = ", ".join(qn(through.get_field(f).column) for f in ("mailing", "client"))
    sql = (
        f"INSERT INTO {qn(through.db_table)} ({columns}) "  # noqa: S608 - names from _meta, values are parameters
        f"SELECT %s, owned.{qn('recipient_id')} FROM ({owned_sql}) owned"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [mailing.pk, *owned_params])


def _replan_after_commit(mailing: Mailing) -> None:
    transaction.on_commit(lambda: engine.replan_mailing(mailing))


def owner_mailings_replan(*, owner) -> None:
    """The owner was blocked or unblocked: after the commit, their runs stop or
    their mailings are scheduled again."""
    transaction.on_commit(lambda: engine.replan_owner_mailings(owner))


def run_retry_failed(*, run: Run) -> int:
    """Send a finished run again to its failed recipients; how many (0: nothing to retry)."""
    return engine.retry_failed(run=run)


@transaction.atomic
def mailing_create(
    *,
    owner,
    message: Message,
    start_at,
    end_at,
    periodicity: str,
    clients=(),
    all_clients: bool = False,
    time_zone: str = "",
) -> Mailing:
    """time_zone: whose wall clock the schedule keeps; the owner's zone when empty."""
    owned_or_error(message, owner, _("The message"))
    mailing = Mailing(
        owner=owner,
        message=message,
        start_at=start_at,
        end_at=end_at,
        periodicity=periodicity,
        time_zone=time_zone or owner.time_zone,
    )
    mailing.full_clean(exclude=["owner", "message"])
    mailing.save()
    grant_owner_perms(mailing, owner)
    _set_recipients(mailing, clients=clients, all_clients=all_clients)
    _replan_after_commit(mailing)
    return mailing


@transaction.atomic
def mailing_update(
    *,
    mailing: Mailing,
    message: Message,
    start_at,
    end_at,
    periodicity: str,
    clients=(),
    all_clients: bool = False,
    time_zone: str = "",
) -> Mailing:
    """Edit a mailing in any status: the scheduler recomputes status and next run.

    A completed mailing whose end time is moved into the future runs again; a
    run in progress keeps the recipients it started with. A disabled mailing
    stays disabled (only a manager turns it back on).
    """
    owned_or_error(message, mailing.owner, _("The message"))
    mailing.message = message
    mailing.start_at = start_at
    mailing.end_at = end_at
    mailing.periodicity = periodicity
    mailing.time_zone = time_zone or mailing.time_zone
    mailing.full_clean(exclude=["owner", "message"])
    mailing.save()
    _set_recipients(mailing, clients=clients, all_clients=all_clients)
    _replan_after_commit(mailing)
    return mailing


# --- The owner's controls (mailings.transitions) ----------------------------------


@transaction.atomic
def mailing_start_now(*, mailing: Mailing) -> Mailing:
    """A created mailing whose start is in the future starts now (its end stays)."""
    transitions.check(mailing, OwnerAction.START_NOW)
    mailing.start_at = timezone.now().replace(microsecond=0)
    mailing.save(update_fields=["start_at", "updated_at"])
    _replan_after_commit(mailing)
    return mailing


def _set_control(mailing: Mailing, action: OwnerAction, **fields) -> None:
    """Check the transition under a row lock, then store the owner's choice."""
    locked = Mailing.objects.select_for_update().select_related("owner").get(pk=mailing.pk)
    transitions.check(locked, action)
    for name, value in fields.items():
        setattr(mailing, name, value)
    Mailing.objects.filter(pk=mailing.pk).update(**fields, updated_at=timezone.now())


def mailing_pause(*, mailing: Mailing) -> Mailing:
    """Stop claiming new recipients within seconds; those on the wire finish."""
    with transaction.atomic():
        _set_control(mailing, OwnerAction.PAUSE, paused_at=timezone.now())
    engine.pause_mailing(mailing.pk)
    return mailing


def mailing_resume(*, mailing: Mailing) -> Mailing:
    """Continue where it stopped: nobody is sent twice."""
    with transaction.atomic():
        _set_control(mailing, OwnerAction.RESUME, paused_at=None)
    engine.resume_mailing(mailing.pk)
    return mailing


def mailing_cancel(*, mailing: Mailing) -> Mailing:
    """Stop for good: the rest is recorded as not sent ("cancelled by the owner")."""
    with transaction.atomic():
        _set_control(mailing, OwnerAction.CANCEL, cancelled_at=timezone.now(), paused_at=None)
    engine.cancel_mailing(mailing.pk)
    return mailing


def mailing_control(*, mailing: Mailing, action: str) -> Mailing:
    """One entry point for the owner's buttons: start now, pause, resume, cancel."""
    perform = {
        OwnerAction.START_NOW: mailing_start_now,
        OwnerAction.PAUSE: mailing_pause,
        OwnerAction.RESUME: mailing_resume,
        OwnerAction.CANCEL: mailing_cancel,
    }[OwnerAction(action)]
    return perform(mailing=mailing)


@transaction.atomic
def mailing_delete(*, mailing: Mailing) -> None:
    # Runs, deliveries and attempts go with it; a worker holding a delivery of
    # this mailing finds it gone and drops it.
    mailing.delete()
