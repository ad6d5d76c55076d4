"""REST API settings (docs/api.md): DRF and drf-spectacular, imported by mailsite.settings
after it has read the environment (and .env)."""

import environ

env = environ.Env()

# A JSON body's limit (10,000 clients with long comments fit).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=20 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a request without credentials gets 401 with `WWW-Authenticate: Bearer`.
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.BrowsableSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsVerifiedUser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env("API_THROTTLE_RATE", default="1200/min"),
        "api_bulk": env("API_BULK_THROTTLE_RATE", default="60/min"),
    },
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mailsite API",
    "DESCRIPTION": "Clients, messages, mailings and their results. See docs/api.md for a walk-through.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["api.schema.only_our_api"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.error_responses"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MailingStatusEnum": "mailings.models.MailingStatus",
        "RunStatusEnum": "mailings.models.RunStatus",
        "AttemptStatusEnum": "mailings.models.AttemptStatus",
        "PeriodicityEnum": "mailings.models.Periodicity",
        "OnExistingEnum": "mailings.imports.OnExisting",
    },
}
