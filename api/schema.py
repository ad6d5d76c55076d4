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


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error has this shape (api.exceptions).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string", "description": "Machine-readable, stable."},
                "message": {"type": "string", "description": "For people, in the request's language."},
                "fields": {
                    "type": "object",
                    "description": "Validation errors only: field name -> [{code, message}].",
                    "additionalProperties": True,
                },
                "retry_after": {"type": "integer", "description": "Throttled only: seconds to wait."},
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}
ERROR_RESPONSES = {
    "400": "Invalid input: see `error.fields`.",
    "401": "No token, or an invalid or revoked one, or a blocked user.",
    "403": "Not allowed for your role.",
    "404": "No such object among those you may see.",
    "429": "Too many requests for this token: see `Retry-After`.",
}

# Actions refused when the object's state does not allow them (already in that state,
# or a mailing's status that has no such owner action).
STATE_ACTIONS = ("/disable/", "/enable/", "/block/", "/unblock/", "/start-now/", "/pause/", "/resume/", "/cancel/")
CONFLICT = "Not allowed in the object's current state."
TOO_LARGE = "The body is larger than API_MAX_BODY_BYTES."


def error_responses(result, generator, request, public):
    """Postprocessing hook: document the error shape on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            errors = dict(ERROR_RESPONSES)
            if "{" not in path:
                del errors["404"]
            if method in ("post", "put", "patch"):
                errors["413"] = TOO_LARGE
            if path.endswith(STATE_ACTIONS):
                errors["409"] = CONFLICT
            for status, description in errors.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
