"""Site-wide middleware: the language of unprefixed URLs."""

from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


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
