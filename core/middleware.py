"""Site-wide middleware: the language of unprefixed URLs; requests no view should see."""

from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's, except that a 404 from a view that matched the URL stays a 404.

    Django redirects any unprefixed 404 to /<language>/... when that path
    resolves, and under i18n_patterns Wagtail's page route resolves every
    path: /app/clients/999/edit/ would become a redirect instead of a 404.
    Only URLs that matched nothing (/, /blog/) are sent to a language."""

    def process_response(self, request, response):
        if response.status_code == 404 and getattr(request, "resolver_match", None) is not None:
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)


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
