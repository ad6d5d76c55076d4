"""OpenAPI pieces drf-spectacular cannot guess: the Bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from your profile page: `Authorization: Bearer msk_…`.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BrowsableSessionAuthentication"
    name = "sessionAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


def only_our_api(endpoints):
    """Preprocessing hook: document /api/v1/ only (Wagtail's own admin API is internal)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
