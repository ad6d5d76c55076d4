"""Writes to accounts. Views, the Wagtail admin and commands call these."""

from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log

from accounts.models import User


@transaction.atomic
def user_block(*, user: User, by=None, reason: str = "") -> User:
    """A blocked user cannot log in, loses open sessions at the next request
    (BlockedUserMiddleware) and their mailings send nothing more."""
    user.is_blocked = True
    user.blocked_at = timezone.now()
    user.blocked_reason = reason
    user.save(update_fields=["is_blocked", "blocked_at", "blocked_reason"])
    # The audit trail is written here so that every path (admin, command) logs.
    log(instance=user, action="mailsite.user.block", user=by, data={"reason": reason})
    # The engine re-plans the owner's mailings: a blocked owner's mailings send nothing.
    from mailings import scheduling
    from mailings.models import MailingStatus

    for mailing in user.mailings.exclude(status=MailingStatus.COMPLETED):
        transaction.on_commit(lambda m=mailing: scheduling.mailing_changed(m))
    return user


@transaction.atomic
def user_unblock(*, user: User, by=None) -> User:
    user.is_blocked = False
    user.blocked_at = None
    user.blocked_reason = ""
    user.save(update_fields=["is_blocked", "blocked_at", "blocked_reason"])
    log(instance=user, action="mailsite.user.unblock", user=by, data={})
    from mailings import scheduling
    from mailings.models import MailingStatus

    for mailing in user.mailings.exclude(status=MailingStatus.COMPLETED):
        transaction.on_commit(lambda m=mailing: scheduling.mailing_changed(m))
    return user
