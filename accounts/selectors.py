"""Reads of accounts: the users a manager may list, and API tokens."""

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import api_token_hash, looks_like_api_token
from mailings import selectors as mailing_selectors
from mailings.timezones import user_time_zone

User = get_user_model()


def users_for_admin(viewer):
    """Users a viewer may list, each with the number of mailings they own that
    the viewer may see (counted through the mailing selector) and the messages
    their mailings sent today (for the daily quota column)."""
    if not viewer.has_perm("accounts.view_user"):
        return User.objects.none()
    owned = (
        mailing_selectors.mailings_for_user(viewer)
        .filter(owner=OuterRef("pk"))
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # "Today" is the viewer's day: the column is read by the manager.
    today = timezone.localtime(timezone.now(), user_time_zone(viewer)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sent_today = (
        mailing_selectors.attempts_for_user(viewer)
        .filter(mailing__owner=OuterRef("pk"), attempted_at__gte=today)
        .order_by()
        .values("mailing__owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return User.objects.annotate(
        mailings_count=Coalesce(Subquery(owned, output_field=IntegerField()), 0),
        sent_today=Coalesce(Subquery(sent_today, output_field=IntegerField()), 0),
    )


def may_block(viewer, target) -> bool:
    """Who may block or unblock whom: a holder of `block_user`, never themselves,
    and only a superuser blocks a superuser."""
    if not viewer.has_perm("accounts.block_user") or target == viewer:
        return False
    return viewer.is_superuser or not target.is_superuser


def api_tokens_of(user):
    return ApiToken.objects.filter(user=user)


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The live (not revoked) token for this secret, with its user; None if unknown."""
    if not looks_like_api_token(secret):
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(secret), revoked_at=None).first()
