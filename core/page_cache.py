"""Whole-page cache for anonymous visitors, with holes for what changes per request.

A public page (a Wagtail page whose model mixes in `CachedPage`) is rendered
once per URL, host, language and time zone, and stored whole: the next
anonymous GET is answered from one `get_many` without Wagtail's routing,
queries or template rendering. The parts that differ per request are holes
(`{% page_hole "name" ... %}`, see core/templatetags/page_cache.py): an
article's fresh view count, the home page's numbers and its three random
articles. A hole is rendered by the same registered
function on the first render and on every hit, so both give the same HTML.

Who never gets a stored page: requests with a session cookie (logged-in
users, editors, anyone with a flash message or a page password) or a messages
cookie, anything but GET, query strings other than `?page=N`, previews,
restricted pages (Wagtail answers them before the page's `serve`), and any
response that is not a 200 text/html page or sets a cookie. A page that shows
a CSRF token is not stored either: the header's language switch needs none
(core/cross_origin.py), so a visitor gets no CSRF cookie.

A page's key also holds `build_id()`, a fingerprint of the code, templates,
translations and static files' hashed names that rendered it: after a deploy
(or in a test with other settings) no page of another release is served.

Invalidation: each stored page carries the site's page version
(`pages:version`, read in the same `get_many`); `invalidate_pages` replaces it
when anything that can change a public page happens (core/page_cache_signals.py),
at once and again on commit. Older pages are then ignored and expire.

Each process also keeps the pages it served (core/local_cache.py), checked
against the shared version on every request: a warm hit is then one
`get_many` of small values (the version and the holes' data), not the page's
25 kB fetched and unpickled again."""

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable

import django
import wagtail
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache, caches
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django_redis.cache import RedisCache
from redis.exceptions import RedisError

from core.local_cache import LocalLRU

VERSION_KEY = "pages:version"
# A safety net only: every change that matters replaces the version.
PAGE_TTL = 24 * 60 * 60
_OPEN, _SPLIT, _CLOSE = "\ue000", "\ue001", "\ue002"  # private-use characters around a hole
_HOLE_RE = re.compile(f"{_OPEN}([^{_SPLIT}]*){_SPLIT}(.*?){_CLOSE}", re.DOTALL)
_PAGE_QUERY_RE = re.compile(r"page=\d{1,4}")
_PAGE_PREFIXES = tuple(f"/{code}/" for code, _name in settings.LANGUAGES)
_COUNTED = "counted"

# Pages this process served, by page key; each carries the version it was stored under.
_local_pages = LocalLRU(maxsize=256)

Filler = Callable[[HttpRequest, dict], str]
Counter = Callable[[dict], str | None]
_fillers: dict[str, Filler] = {}
_counters: dict[str, Counter] = {}
_prefetch: set[str] = set()


def register_hole(
    name: str, *, prefetch: Iterable[str] = (), counter: Counter | None = None
) -> Callable[[Filler], Filler]:
    """Register the function that renders the hole `name`: f(request, params) -> HTML.

    `prefetch` names cache keys the hole reads: on a hit they come in the page's
    own `get_many`, and `prefetched(request, key)` gives them to the filler.

    `counter(params)` names a Redis counter the hole adds one to on every
    visitor's view (an article's views): when this process holds the page, the
    page's read increments it in the same round trip, and `counted(request,
    key)` gives the filler the new value (else None: the filler counts)."""

    def decorator(func: Filler) -> Filler:
        _fillers[name] = func
        _prefetch.update(prefetch)
        if counter is not None:
            _counters[name] = counter
        return func

    return decorator


def prefetched(request, key: str, default=None):
    """A value read with the page (a prefetch key), else `default` (then the filler reads it itself)."""
    return getattr(request, "_page_cache_found", {}).get(key, default)


def counted(request, key: str) -> int | None:
    """The counter `key` after the page's read added this view to it, or None if it did not."""
    return getattr(request, "_page_cache_found", {}).get((_COUNTED, key))


def _read(keys: list[str], entry: dict | None) -> dict:
    """The page's one cache round trip: the values of `keys` and, with Redis,
    the counters of `entry`'s holes incremented (under (_COUNTED, key))."""
    counters = [
        key
        for part in (entry["parts"] if entry else ())
        if not isinstance(part, str) and part[0] in _counters and (key := _counters[part[0]](part[1]))
    ]
    backend = caches["default"]
    if not counters or not isinstance(backend, RedisCache):
        return cache.get_many(keys)
    client = backend.client
    pipe = client.get_client(write=True).pipeline(transaction=False)
    pipe.mget([client.make_key(key) for key in keys])
    for key in counters:
        pipe.incr(client.make_key(key))
    try:
        values, *counts = pipe.execute()
    except RedisError:
        return {}  # as django-redis ignores an outage: a miss, and the holes count
    found = {key: client.decode(value) for key, value in zip(keys, values, strict=True) if value is not None}
    found.update({(_COUNTED, key): count for key, count in zip(counters, counts, strict=True)})
    return found


def hole(request, name: str, **params) -> str:
    html = _fillers[name](request, params)
    if getattr(request, "_page_cache_render", False):
        return mark_safe(f"{_OPEN}{json.dumps([name, params])}{_SPLIT}{html}{_CLOSE}")  # noqa: S308 - filler's HTML
    return html


def _cacheable_request(request) -> bool:
    # Wagtail's pages are served under the language prefixes only (mailsite/urls.py).
    if request.method != "GET" or not request.path_info.startswith(_PAGE_PREFIXES):
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or getattr(settings, "MESSAGES_COOKIE_NAME", "messages") in cookies:
        return False
    query = request.META.get("QUERY_STRING", "")
    return not query or bool(_PAGE_QUERY_RE.fullmatch(query))


# What renders a page besides its content: our code, templates and
# translations, the libraries, and the static files' hashed names.
_BUILD_DIRS = ("core", "home", "blog", "mailings", "accounts", "mailsite", "templates", "locale")
_BUILD_SUFFIXES = (".py", ".html", ".mo")
_build: str | None = None


def build_id() -> str:
    """A fingerprint of the release, once per process: a page stored by other
    code or with other static files (a deploy, a stale shared cache) is never
    served, since its key differs."""
    global _build  # noqa: PLW0603 - computed once per process
    if _build is None:
        digest = hashlib.sha256(f"{django.__version__} {wagtail.__version__} {settings.STATIC_URL}".encode())
        digest.update(str(getattr(staticfiles_storage, "manifest_hash", "")).encode())
        for top in _BUILD_DIRS:
            for path in sorted((settings.BASE_DIR / top).rglob("*")):
                if path.suffix in _BUILD_SUFFIXES and "tests" not in path.parts:
                    digest.update(path.read_bytes())
        _build = digest.hexdigest()[:16]
    return _build


@receiver(setting_changed)
def _forget_build(*, setting, **kwargs):
    global _build  # noqa: PLW0603 - see build_id
    if setting in ("STORAGES", "STATIC_URL", "STATIC_ROOT"):
        _build = None


def _page_key(request) -> str:
    what = "\n".join(
        (
            build_id(),
            request.get_host(),
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            request.get_full_path(),
        )
    )
    return "page:" + hashlib.sha256(what.encode()).hexdigest()[:40]


def _version(found: dict) -> str:
    version = found.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def invalidate_pages() -> None:
    """Every stored page is stale from now on (and again after the commit, for
    a page rendered from the old rows and stored in between)."""
    _new_version()
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(f is _new_version for _s, f, _r in connection.run_on_commit):
        transaction.on_commit(_new_version, robust=True)


def _new_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


class CachedPage:
    """Mixed into a Wagtail page model whose anonymous view may be stored whole."""

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if getattr(request, "_page_cache_render", False) and not getattr(request, "is_preview", False):
            request._page_cache_page = True
        return response


class PageCacheMiddleware:
    """Answers anonymous GETs of stored pages; stores the pages it sees rendered.

    Sits after the middleware that sets the language, the time zone, the user
    and the CSRF cookie, so a stored page is served with the same headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _cacheable_request(request):
            return self.get_response(request)
        key = _page_key(request)
        local = _local_pages.get(key)
        # The stored page itself is fetched only when this process has no copy.
        found = _read([VERSION_KEY, *_prefetch] if local else [key, VERSION_KEY, *_prefetch], local)
        request._page_cache_found = found
        version = found.get(VERSION_KEY)
        for entry in (local, found.get(key)):
            if entry is not None and version is not None and entry["version"] == version:
                _local_pages.set(key, entry)
                return self._from_entry(request, entry)
        if local is not None:
            # Another version: a page another process stored since may be current.
            entry = cache.get(key)
            if entry is not None and version is not None and entry["version"] == version:
                _local_pages.set(key, entry)
                return self._from_entry(request, entry)
        version = _version(found)
        request._page_cache_render = True
        response = self.get_response(request)
        request._page_cache_render = False
        if not getattr(request, "_page_cache_page", False) or getattr(response, "streaming", True):
            return response  # not one of our pages
        if not response.get("Content-Type", "").startswith("text/html"):
            return response  # holes are only ever rendered into HTML
        text = response.content.decode(response.charset)
        parts = [text]
        if _OPEN in text:
            parts, html = _split(text)
            response.content = html
        if parts is not None and self._storable(response, parts):
            entry = {"version": version, "parts": parts, "content_type": response["Content-Type"]}
            cache.set(key, entry, PAGE_TTL)
            _local_pages.set(key, entry)
        return response

    @staticmethod
    def _storable(response, parts) -> bool:
        return (
            response.status_code == 200
            and response["Content-Type"].startswith("text/html")
            and not response.cookies
            # A stored token would be handed to every visitor.
            and not any(isinstance(p, str) and "csrfmiddlewaretoken" in p for p in parts)
        )

    @staticmethod
    def _from_entry(request, entry) -> HttpResponse:
        html = "".join(
            part if isinstance(part, str) else _fillers[part[0]](request, part[1]) for part in entry["parts"]
        )
        return HttpResponse(html, content_type=entry["content_type"])


def _split(text: str) -> tuple[list | None, str]:
    """The page as literal strings and [name, params] holes, and the page without the markers."""
    parts: list = []
    plain: list[str] = []
    position = 0
    for match in _HOLE_RE.finditer(text):
        parts.append(text[position : match.start()])
        parts.append(json.loads(match.group(1)))
        plain += [text[position : match.start()], match.group(2)]
        position = match.end()
    parts.append(text[position:])
    plain.append(text[position:])
    html = "".join(plain)
    if _OPEN in html or _CLOSE in html:  # nested or broken markers: serve, never store
        return None, html.replace(_OPEN, "").replace(_SPLIT, "").replace(_CLOSE, "")
    return [p for p in parts if p != ""], html
