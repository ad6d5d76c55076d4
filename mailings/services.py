"""Writes to the mailing domain. Views, forms, the admin and tasks call these."""

from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm
from wagtail.log_actions import log

from mailings import scheduling
from mailings.models import Mailing

OWNER_PERMS = ("view", "change", "delete")


def grant_owner_perms(obj, user):
    """The owner of a new client, message or mailing may view, change and delete it."""
    model_name = obj._meta.model_name
    for perm in OWNER_PERMS:
        assign_perm(f"{obj._meta.app_label}.{perm}_{model_name}", user, obj)


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
    transaction.on_commit(lambda: scheduling.mailing_changed(mailing))
    return mailing


@transaction.atomic
def mailing_enable(*, mailing: Mailing, by) -> Mailing:
    mailing.is_active = True
    mailing.disabled_at = None
    mailing.disabled_by = None
    mailing.disabled_reason = ""
    mailing.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason", "updated_at"])
    log(instance=mailing, action="mailsite.mailing.enable", user=by, data={})
    transaction.on_commit(lambda: scheduling.mailing_changed(mailing))
    return mailing
