"""Request checks that hold for every view."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    """A NUL byte in the URL or its query string is a 400: no database stores
    it (PostgreSQL raises DataError) and no honest client sends one. Forms
    refuse NUL in POSTed fields themselves (Django's CharField)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in k + "".join(vs) for k, vs in request.GET.lists()):
            message = _("The address contains a NUL character.")
            if request.path.startswith("/api/"):
                # The REST API's one error shape (api/exceptions.py).
                error = {"status": 400, "code": "null_characters_not_allowed", "message": message}
                return JsonResponse({"error": error}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
