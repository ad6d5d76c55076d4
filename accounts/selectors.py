"""Reads of accounts: the users a manager may list, and API tokens."""

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.models import ApiToken
from accounts.tokens import api_token_hash, looks_like_api_token
from mailings import selectors as mailing_selectors

User = get_user_model()


def users_for_admin(viewer):
    """Users a viewer may list, each with the number of mailings they own that
    the viewer may see (counted through the mailing selector)."""
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
    return User.objects.annotate(
        mailings_count=Coalesce(Subquery(owned, output_field=IntegerField()), 0),
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
