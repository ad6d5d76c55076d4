"""Request checks that hold for every view."""

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    """A NUL byte in the URL or its query string is a 400: no database stores
    it (PostgreSQL raises DataError) and no honest client sends one. Forms
    refuse NUL in POSTed fields themselves (Django's CharField)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in k + "".join(vs) for k, vs in request.GET.lists()):
            return HttpResponseBadRequest(_("The address contains a NUL character."))
        return self.get_response(request)
