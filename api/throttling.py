"""Per-token request limits, counted in the shared cache (Redis in production,
the database cache otherwise), so every web process sees the same count."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """One budget per API token; a session counts per user, the anonymous per address."""

    scope = "api"

    def get_rate(self):
        # Read at request time, so a changed setting applies (DRF reads it once at import).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class BulkRateThrottle(TokenRateThrottle):
    """The bulk upsert writes up to 10,000 rows a request: its own, smaller budget."""

    scope = "api_bulk"
