"""Every API error in one JSON shape:

    {"error": {"status": 400, "code": "invalid", "message": "…",
               "fields": {"email": [{"code": "invalid", "message": "…"}]}}}

`code` is machine-readable and stable; `message` is for people (translated);
`fields` appears on validation errors only.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"
    default_detail = "The request conflicts with the object's current state."


def _field_details(details):
    """DRF's full details with "message" for people; nested rows (bulk) stay nested."""
    if isinstance(details, dict) and set(details) == {"message", "code"}:
        return {"code": details["code"], "message": str(details["message"])}
    if isinstance(details, dict):
        return {key: _field_details(value) for key, value in details.items()}
    if isinstance(details, list):
        return [_field_details(item) for item in details]
    return details


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # A service refused: its errors become field errors.
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    error = {"status": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.get_full_details()
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        error.update(code="invalid", message=_("The request has invalid fields."), fields=_field_details(fields))
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        error.update(code=codes if isinstance(codes, str) else exc.default_code, message=str(exc.detail))
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            error["retry_after"] = int(exc.wait)
    response.data = {"error": error}
    return response
