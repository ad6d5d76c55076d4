"""The home page's per-request parts of a stored page (core/page_cache.py): the
service's numbers and three random articles, both from values read in the
page's own `get_many` when the page is stored."""

from functools import lru_cache

from django.template.loader import render_to_string
from django.utils import translation

from blog import article_cache
from blog.cards import article_cards
from blog.models import BlogPage
from core.page_cache import prefetched, register_hole
from home.stats import STATS_KEY, HomeStats, home_stats

RANDOM_ARTICLES = 3


@register_hole("home_stats", prefetch=[STATS_KEY])
def stats(request, params) -> str:
    cached = prefetched(request, STATS_KEY)
    numbers = HomeStats(**cached) if cached is not None else home_stats()
    return _stats_html(translation.get_language(), numbers)


@register_hole("random_articles", prefetch=[article_cache.PUBLISHED_KEY])
def random_articles(request, params) -> str:
    """Three published articles of the page's language (below its tree path), new on each request."""
    cached = prefetched(request, article_cache.PUBLISHED_KEY)
    entries = [article_cache.ArticleEntry(*e) for e in cached] if cached is not None else None
    chosen = BlogPage.random_entries(RANDOM_ARTICLES, under=params["under"], entries=entries)
    return _articles_html(translation.get_language(), tuple(article_cards(request, chosen, BlogPage.in_order)))


# The same inputs render the same HTML: each process keeps the last few.
@lru_cache(maxsize=64)
def _stats_html(language: str, numbers: HomeStats) -> str:
    return render_to_string("home/includes/stats.html", {"stats": numbers})


@lru_cache(maxsize=512)
def _articles_html(language: str, cards: tuple[str, ...]) -> str:
    return render_to_string("home/includes/random_articles.html", {"cards": cards})
