"""Settings for bench/pages_http.py only: the production settings, plus a URL
`/bench/trivial/` (a bare Django view to compare the pages with) and a
middleware that counts SQL queries and cache calls for requests that ask for it
(header X-Bench-Count). Never used by the product."""

import threading
import time

from mailsite.settings import *  # noqa: F403
from mailsite.settings import MIDDLEWARE

ROOT_URLCONF = "pages_http_urls"
MIDDLEWARE = ["pages_http_settings.CountMiddleware", *MIDDLEWARE]

_counts = threading.local()
_CACHE_METHODS = ("get", "get_many", "set", "set_many", "add", "delete", "delete_many", "touch", "has_key", "incr")


def _patch_cache_class(cls):
    if getattr(cls, "_bench_counted", False):
        return
    for name in _CACHE_METHODS:
        original = getattr(cls, name, None)
        if original is None:
            continue

        def counted(self, *args, __original=original, __name=name, **kwargs):
            calls = getattr(_counts, "cache", None)
            if calls is not None:
                calls.append(f"{__name} {args[0] if args else ''}"[:120])
                # Nested calls (get_many falling back to get) count once: stop counting inside.
                _counts.cache = None
                try:
                    return __original(self, *args, **kwargs)
                finally:
                    _counts.cache = calls
            return __original(self, *args, **kwargs)

        setattr(cls, name, counted)
    cls._bench_counted = True


def _patch_pipeline():
    """The page cache reads a stored page and adds a view in one Redis pipeline
    (core/page_cache.py): one round trip, counted as one call."""
    from redis.client import Pipeline

    if getattr(Pipeline, "_bench_counted", False):
        return
    original = Pipeline.execute

    def counted(self, *args, **kwargs):
        calls = getattr(_counts, "cache", None)
        if calls is not None:
            calls.append(f"pipeline {' + '.join(str(c[0][0]) for c in self.command_stack)}"[:120])
        return original(self, *args, **kwargs)

    Pipeline.execute = counted
    Pipeline._bench_counted = True


class CountMiddleware:
    def __init__(self, get_response):
        from django.core.cache import cache

        self.get_response = get_response
        _patch_pipeline()
        _patch_cache_class(type(cache._connections[cache._alias]) if hasattr(cache, "_connections") else type(cache))

    def __call__(self, request):
        if "HTTP_X_BENCH_COUNT" not in request.META:
            return self.get_response(request)
        from django.core.cache import caches
        from django.db import connection

        _patch_cache_class(type(caches["default"]))
        queries = []

        def record(execute, sql, params, many, context):
            queries.append(sql[:160])
            return execute(sql, params, many, context)

        _counts.cache = []
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(record):
                response = self.get_response(request)
        finally:
            calls, _counts.cache = _counts.cache, None
        response["X-Bench-Ms"] = f"{1000 * (time.perf_counter() - started):.2f}"
        response["X-Bench-Queries"] = str(len(queries))
        response["X-Bench-Cache-Calls"] = str(len(calls))
        response["X-Bench-Cache-Detail"] = " | ".join(calls)[:2000].encode("ascii", "replace").decode()
        response["X-Bench-Sql-Detail"] = (
            " | ".join(q.replace("\n", " ") for q in queries)[:3000].encode("ascii", "replace").decode()
        )
        return response
