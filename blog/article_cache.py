"""The cache behind the blog's article lists.

The list of published articles (id, tree path and card stamp, newest first) is
cached as a whole: the home page draws its random three from it and the blog index pages
through it, so neither queries every article on each request. `blog.signals`
drops it when an article is published, unpublished, moved or deleted.

This module knows the cache, not the models: `BlogPage.published_entries`
passes in the query that refills it, so the dependency runs models -> cache."""

import uuid
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.core.cache import cache

PUBLISHED_KEY = "blog:published-articles"
VERSION_KEY = "blog:version"
# A safety net only: every change that matters invalidates at once.
PUBLISHED_TTL = 60 * 60


class ArticleEntry(NamedTuple):
    id: int
    path: str
    # Changes when the article's card may: a new publication or another image file (blog.cards).
    stamp: str


def published_entries(load: Callable[[], Iterable[tuple[int, str, str]]]) -> list[ArticleEntry]:
    """The cached list; on a miss, `load()` gives the (id, path, stamp) rows, newest first."""
    entries = cache.get(PUBLISHED_KEY)
    if entries is None:
        entries = [tuple(row) for row in load()]
        cache.set(PUBLISHED_KEY, entries, PUBLISHED_TTL)
    return [ArticleEntry(*e) for e in entries]


def blog_version() -> str:
    """A token that changes whenever the set or content of published articles changes.

    Cached fragments that list articles (the blog index) include it in their key."""
    token = cache.get(VERSION_KEY)
    if token is None:
        token = uuid.uuid4().hex
        cache.add(VERSION_KEY, token, None)
        token = cache.get(VERSION_KEY) or token
    return token


def invalidate_published_articles() -> None:
    cache.delete(PUBLISHED_KEY)
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
