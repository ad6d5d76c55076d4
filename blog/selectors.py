"""Reads of the blog, with their cache.

The list of published articles (id and tree path, newest first) is cached as a
whole: the home page draws its random three from it and the blog index pages
through it, so neither queries every article on each request. `blog.signals`
drops it when an article is published, unpublished, moved or deleted."""

import random
import uuid
from typing import NamedTuple

from django.core.cache import cache

from blog.models import BlogPage

PUBLISHED_KEY = "blog:published-articles"
VERSION_KEY = "blog:version"
# A safety net only: every change that matters invalidates at once.
PUBLISHED_TTL = 60 * 60
FRAGMENT_TTL = 24 * 60 * 60


class ArticleEntry(NamedTuple):
    id: int
    path: str


def published_articles() -> list[ArticleEntry]:
    """Every live, public article, newest first; from the cache when it can."""
    entries = cache.get(PUBLISHED_KEY)
    if entries is None:
        rows = (
            BlogPage.objects.live().public().order_by("-date", "-first_published_at", "-id").values_list("id", "path")
        )
        entries = [ArticleEntry(*row) for row in rows]
        cache.set(PUBLISHED_KEY, [tuple(e) for e in entries], PUBLISHED_TTL)
    return [ArticleEntry(*e) for e in entries]


def articles_in_order(ids: list[int]) -> list[BlogPage]:
    """The articles with these ids, in this order, with their images: one query."""
    by_id = BlogPage.objects.live().select_related("image").in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def random_articles(count: int = 3, *, under: str = "") -> list[BlogPage]:
    """`count` distinct published articles below the tree path `under` (a
    language's home page), a new random choice on each call."""
    ids = [entry.id for entry in published_articles() if entry.path.startswith(under)]
    return articles_in_order(random.sample(ids, min(count, len(ids))))


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
