"""The mailing's status model: what a mailing is doing and what its owner may
do with it, in one place.

Statuses (MailingStatus) are decided from facts by `status_from_facts`:
cancelled by the owner > paused by the owner > a run at work > done > waiting.
The owner's actions (OwnerAction) are allowed by `owner_actions`; a manager's
disable and a blocked account win over the owner: none are offered then.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mailings.models import Mailing, MailingStatus, Periodicity


class OwnerAction(models.TextChoices):
    START_NOW = "start_now", _("Start now")
    PAUSE = "pause", _("Pause")
    RESUME = "resume", _("Resume")
    CANCEL = "cancel", _("Cancel")


# From each status, the owner's actions that make sense.
ALLOWED = {
    MailingStatus.CREATED: (OwnerAction.START_NOW, OwnerAction.CANCEL),
    MailingStatus.RUNNING: (OwnerAction.PAUSE, OwnerAction.CANCEL),
    MailingStatus.PAUSED: (OwnerAction.RESUME, OwnerAction.CANCEL),
    MailingStatus.COMPLETED: (),
    MailingStatus.CANCELLED: (),
}


class TransitionError(ValidationError):
    pass


def status_from_facts(mailing: Mailing, *, now, has_active_run: bool, has_runs: bool, once_done: bool) -> MailingStatus:
    """The one place deciding a mailing's status.

    cancelled: the owner cancelled it; paused: the owner paused it; running:
    a run is at work, or it started and has slots left; completed: a one-off
    mailing's run finished, or the end time passed; created: nothing yet."""
    if mailing.cancelled_at:
        return MailingStatus.CANCELLED
    if mailing.paused_at and not (now >= mailing.end_at and not has_active_run):
        return MailingStatus.PAUSED
    if has_active_run:
        return MailingStatus.RUNNING
    if (mailing.periodicity == Periodicity.ONCE and once_done) or now >= mailing.end_at:
        return MailingStatus.COMPLETED
    return MailingStatus.RUNNING if has_runs else MailingStatus.CREATED


def controls_locked(mailing: Mailing) -> str:
    """Why the owner may not act now ("" when they may): a manager's disable wins."""
    if not mailing.is_active:
        return gettext("A manager disabled this mailing; only a manager can turn it back on.")
    if mailing.owner.is_blocked:
        return gettext("The account is blocked.")
    return ""


def owner_actions(mailing: Mailing, *, now=None) -> list[OwnerAction]:
    """What the owner may do with the mailing now (the buttons on its page)."""
    if controls_locked(mailing):
        return []
    now = now or timezone.now()
    actions = list(ALLOWED.get(mailing.status, ()))
    if OwnerAction.START_NOW in actions and mailing.start_at <= now:
        actions.remove(OwnerAction.START_NOW)  # it starts by itself any moment
    return actions


def check(mailing: Mailing, action: OwnerAction) -> None:
    """Raise TransitionError unless the owner may take `action` now."""
    locked = controls_locked(mailing)
    if locked:
        raise TransitionError(locked, code="locked")
    if action not in owner_actions(mailing):
        raise TransitionError(
            gettext("A mailing that is “%(status)s” cannot be changed that way: %(action)s.")
            % {"status": mailing.get_status_display(), "action": OwnerAction(action).label},
            code="not_allowed",
        )
