"""Ownership: the object permissions the owner of a new client, message or mailing
gets (django-guardian), and the check that an object named in a write is the owner's."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

OWNER_PERMS = ("view", "change", "delete")


def grant_owner_perms(obj, user):
    """The owner of a new client, message or mailing may view, change and delete it."""
    model_name = obj._meta.model_name
    for perm in OWNER_PERMS:
        assign_perm(f"{obj._meta.app_label}.{perm}_{model_name}", user, obj)


def owned_or_error(obj, owner, what):
    """A write may name only the owner's own objects (`what` says which, for the error)."""
    if obj.owner_id != owner.pk:
        raise ValidationError(_("%(what)s is not yours."), code="not_owner", params={"what": what})
