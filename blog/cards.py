"""Article cards (home page, blog index), cached one per article and language
under a key that changes with the article's card stamp (a new publication, a
new image): a card never changes under its key, so each process keeps the
cards it has used (core/local_cache.py); others come in one `get_many`, and
only the ones missing there cost a query (one for all of them) and a render."""

from collections.abc import Callable

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from blog.article_cache import ArticleEntry
from core.local_cache import LocalLRU

CARD_TTL = 24 * 60 * 60
CARD_TEMPLATE = "blog/includes/article_card.html"
_local_cards = LocalLRU(maxsize=1024)


def _key(entry: ArticleEntry, language: str) -> str:
    return f"blog:card:{entry.id}:{entry.stamp}:{language}"


def article_cards(request, entries: list[ArticleEntry], load: Callable[[list[int]], list]) -> list[SafeString]:
    """The cards' HTML, in the order of `entries`; `load(ids)` gives the articles
    whose cards are missing (`BlogPage.in_order`: the models call this module)."""
    language = translation.get_language() or ""
    keys = [_key(entry, language) for entry in entries]
    found = {key: html for key in keys if (html := _local_cards.get(key)) is not None}
    wanted = [key for key in keys if key not in found]
    if wanted:
        shared = cache.get_many(wanted)
        found.update(shared)
        for key, html in shared.items():
            _local_cards.set(key, html)
    missing = [entry for entry, key in zip(entries, keys, strict=True) if key not in found]
    if missing:
        articles = {a.pk: a for a in load([e.id for e in missing])}
        rendered = {
            _key(e, language): render_to_string(CARD_TEMPLATE, {"article": articles[e.id]}, request=request)
            for e in missing
            if e.id in articles
        }
        cache.set_many(rendered, CARD_TTL)
        found.update(rendered)
        for key, html in rendered.items():
            _local_cards.set(key, html)
    return [mark_safe(found[key]) for key in keys if key in found]  # noqa: S308 - our own rendered template
