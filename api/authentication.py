"""`Authorization: Bearer <token>`: a customer's API token (accounts.models.ApiToken)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts import selectors, services

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """The token's user on every request, read fresh: a blocked user or a revoked token fails at once."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Give exactly one token after “Bearer”."), code="invalid_token")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed(_("The token is invalid or revoked."), code="invalid_token") from exc
        token = selectors.api_token_for_secret(secret)
        if token is None:
            raise AuthenticationFailed(_("The token is invalid or revoked."), code="invalid_token")
        if token.user.is_blocked or not token.user.is_active:
            raise AuthenticationFailed(_("This account is blocked."), code="user_blocked")
        services.api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BrowsableSessionAuthentication(SessionAuthentication):
    """The logged-in session, for the browsable API and the docs page (CSRF enforced)."""
