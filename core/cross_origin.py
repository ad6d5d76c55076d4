"""Cross-site request protection without a token, for a form shown on pages
stored whole for every visitor (core/page_cache.py): the header's language
switch. With Django's token, every cookieless visitor would cost a new CSRF
secret, its masked token and a Set-Cookie, on every stored page.

The browser says where a request comes from. `Sec-Fetch-Site` (every current
browser) must be `same-origin` or `none` (typed, bookmarked); without it, an
`Origin` header (every browser sends one with a POST) must be this site or a
trusted origin. A request with neither comes from no browser, so it carries no
visitor's cookies to abuse, and passes. The same rules as Go's
`net/http.CrossOriginProtection`."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import is_same_domain
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
REASON = "Cross-site request refused (Sec-Fetch-Site or Origin)."


def _trusted(origin: str) -> bool:
    """Whether `origin` is in CSRF_TRUSTED_ORIGINS (`https://*.example.com` allows subdomains)."""
    parts = urlsplit(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        allowed = urlsplit(trusted)
        pattern = allowed.netloc.removeprefix("*")  # "*.example.com" -> ".example.com"
        if allowed.scheme == parts.scheme and is_same_domain(parts.netloc, pattern):
            return True
    return False


def same_origin(request: HttpRequest) -> bool:
    """Whether an unsafe request may come from a page of this site (see the module's docstring)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and _trusted(origin):
        return True
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    if origin is None:
        return True
    return origin == f"{request.scheme}://{request.get_host()}"


def cross_origin_protected(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Exempt `view` from Django's token check and refuse cross-site unsafe
    requests instead, with the CSRF failure page (403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in _SAFE_METHODS and not same_origin(request):
            return import_string(settings.CSRF_FAILURE_VIEW)(request, reason=REASON)
        return view(request, *args, **kwargs)

    return csrf_exempt(checked)
