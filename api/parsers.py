"""JSON bodies with a size limit: DRF reads a JSON body whole, and Django's
DATA_UPLOAD_MAX_MEMORY_SIZE only guards form data, so without this a huge body
would be held in memory."""

import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = _("The request body is too large.")


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(
                _("The request body is larger than %(mb)s MB: send fewer rows per request.")
                % {"mb": limit // (1024 * 1024)}
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)
