"""The blog: an index page and its articles (BlogPage), edited in Wagtail.

An article's view count lives in its own table (BlogPageViews), not on the
page: publishing a revision saves every page field from the revision, so a
counter on the page would be reset to the value it had when the revision was
made.

An index page lists its articles and serves their feed from the cached list of
published articles (`blog.article_cache`): page logic on the page models, as
Wagtail does it, so the dependencies run one way: models -> panels, feeds,
article_cache; signals -> models."""

import hashlib
import random

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import F
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from blog import article_cache, cards
from blog.blocks import ArticleBodyBlock
from blog.feeds import BlogFeed
from blog.panels import ViewCountPanel
from core.page_cache import CachedPage

ARTICLES_PER_PAGE = 9


class BlogIndexPage(CachedPage, RoutablePageMixin, Page):
    """Lists the published articles below it, newest first; /feed/ is their RSS feed."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["blog.BlogPage"]
    parent_page_types = ["home.HomePage"]
    max_count_per_parent = 1
    template = "blog/blog_index_page.html"

    class Meta:
        verbose_name = _("blog index")

    def article_entries(self) -> list[article_cache.ArticleEntry]:
        """The published articles below this index, newest first, from the cache."""
        return [e for e in BlogPage.published_entries() if e.path.startswith(self.path)]

    def latest_articles(self, count: int) -> list["BlogPage"]:
        return BlogPage.in_order([e.id for e in self.article_entries()[:count]])

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        entries = self.article_entries()
        page_number = _page_number(request)
        paginator = Paginator(entries, ARTICLES_PER_PAGE)
        page_obj = paginator.get_page(page_number)
        context["page_obj"] = page_obj
        context["page_number"] = page_obj.number
        context["blog_version"] = article_cache.blog_version()
        # Rendered only when the cached fragment misses: cached cards, one query for the missing ones.
        context["cards"] = SimpleLazyObject(
            lambda: cards.article_cards(request, list(page_obj.object_list), BlogPage.in_order)
        )
        return context

    @path("feed/", name="feed")
    def feed(self, request):
        return BlogFeed(self)(request)


def _page_number(request):
    try:
        return max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        return 1


class BlogPage(CachedPage, Page):
    """An article."""

    date = models.DateField(
        _("publish date"),
        null=True,
        blank=True,
        help_text=_("Shown on the article. Leave empty for the day it is first published."),
    )
    intro = models.CharField(_("introduction"), max_length=300, blank=True, help_text=_("Shown in article lists."))
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(ArticleBodyBlock(), verbose_name=_("body"), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("image"),
        FieldPanel("body"),
        # Shown, never edited: the count is not a page field (see BlogPageViews).
        ViewCountPanel(),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["blog.BlogIndexPage"]
    subpage_types: list = []
    template = "blog/blog_page.html"

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def save(self, *args, **kwargs):
        # The publish date defaults to the day of first publication.
        if self.live and self.date is None:
            self.date = timezone.localdate(self.first_published_at or timezone.now())
        return super().save(*args, **kwargs)

    # A visitor's view is counted, and the count read fresh, by the page's "views"
    # hole (blog.holes), on every request, whether the rest of the page is stored or not.

    def view_count(self) -> int:
        return BlogPageViews.current(self.pk) if self.pk else 0

    @classmethod
    def published_entries(cls) -> list[article_cache.ArticleEntry]:
        """Every live, public article, newest first; from the cache when it can."""

        # Built only on a miss: public() itself queries the view restrictions.
        def load():
            rows = (
                cls.objects.live()
                .public()
                .order_by("-date", "-first_published_at", "-id")
                .values_list("id", "path", "last_published_at", *CARD_IMAGE_FIELDS)
            )
            return [(pk, path, _card_stamp(published, image)) for pk, path, published, *image in rows]

        return article_cache.published_entries(load)

    @classmethod
    def in_order(cls, ids: list[int]) -> list["BlogPage"]:
        """The articles with these ids, in this order, with their images: one query."""
        by_id = cls.objects.live().select_related("image").in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    @classmethod
    def random_entries(
        cls, count: int, *, under: str = "", entries: list[article_cache.ArticleEntry] | None = None
    ) -> list[article_cache.ArticleEntry]:
        """`count` distinct published articles below the tree path `under` (a
        language's home page), a new random choice on each call."""
        below = [e for e in (cls.published_entries() if entries is None else entries) if e.path.startswith(under)]
        return random.sample(below, min(count, len(below)))


# What of an article's image its card shows: another file or focal point is another rendition.
CARD_IMAGE_FIELDS = (
    "image_id",
    "image__file",
    "image__file_hash",
    "image__focal_point_x",
    "image__focal_point_y",
    "image__focal_point_width",
    "image__focal_point_height",
)


def _card_stamp(published, image_fields) -> str:
    """Changes whenever the article's card may: a new publication or another image."""
    text = "|".join(str(v) for v in (published.isoformat() if published else "", *image_fields))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def counts_as_view(request) -> bool:
    """A visitor's GET of the live article. Not previews, HEAD, or editors reading their own site."""
    if request.method != "GET" or getattr(request, "is_preview", False):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated and user.has_perm("wagtailadmin.access_admin"))


def views_key(page_id: int) -> str:
    """The cache key of an article's running view total in Redis (blog/view_counts.py)."""
    return f"blog:views:{page_id}"


def views_in_redis() -> bool:
    """Whether the running totals live in Redis: they do when the cache is Redis."""
    return "django_redis" in settings.CACHES["default"]["BACKEND"]


class BlogPageViews(models.Model):
    """How many times visitors have read an article; updated only with `views = views + 1`."""

    page = models.OneToOneField(
        BlogPage, on_delete=models.CASCADE, primary_key=True, related_name="view_counter", verbose_name=_("article")
    )
    views = models.PositiveBigIntegerField(_("views"), default=0)
    # Of `views`, those counted here while Redis was unreachable, not yet added
    # to Redis's running total (blog/view_counts.py).
    unsynced = models.PositiveBigIntegerField(_("views not yet in Redis"), default=0)

    class Meta:
        verbose_name = _("article view count")
        verbose_name_plural = _("article view counts")

    def __str__(self):
        return f"{self.page_id}: {self.views}"

    @classmethod
    def record(cls, page_id: int, *, unsynced: bool = False) -> int:
        """Add one view atomically (concurrent requests never lose an increment); the new count.
        `unsynced`: counted here because Redis, which keeps the running totals, was unreachable.

        One statement when the row exists: UPDATE ... RETURNING (PostgreSQL, SQLite >= 3.35)."""
        table, pk = cls._meta.db_table, cls._meta.pk.column
        qn = connection.ops.quote_name
        views, late = qn(cls._meta.get_field("views").column), qn(cls._meta.get_field("unsynced").column)
        sql = (
            f"UPDATE {qn(table)} SET {views} = {views} + 1, {late} = {late} + {int(unsynced)} "  # noqa: S608 - names from _meta
            f"WHERE {qn(pk)} = %s RETURNING {views}"
        )
        # A view count need not wait for the disk: on PostgreSQL, outside a transaction, the
        # commit does not wait for the WAL flush (a crash of the database server may lose the
        # last fraction of a second of views). Two statements in one round trip are one
        # implicit transaction, so SET LOCAL ends with it.
        lazy = connection.vendor == "postgresql" and not connection.in_atomic_block
        with connection.cursor() as cursor:
            if lazy:
                cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {sql}", [page_id])
                cursor.nextset()
            else:
                cursor.execute(sql, [page_id])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        _counter, created = cls.objects.get_or_create(page_id=page_id, defaults={"views": 1, "unsynced": int(unsynced)})
        if not created:
            # Another request created the row between our UPDATE and INSERT.
            cls.objects.filter(page_id=page_id).update(views=F("views") + 1, unsynced=F("unsynced") + int(unsynced))
        return cls.count_for(page_id)

    @classmethod
    def of_record(cls, page_id: int) -> tuple[int, int]:
        """The article's (views, unsynced) in this table; (0, 0) before its first view."""
        return cls.objects.filter(page_id=page_id).values_list("views", "unsynced").first() or (0, 0)

    @classmethod
    def current(cls, page_id: int) -> int:
        """The article's total, without counting a view: with Redis, its running total
        plus the views counted here while it was unreachable (blog/view_counts.py)."""
        views, unsynced = cls.of_record(page_id)
        total = cache.get(views_key(page_id)) if views_in_redis() else None
        return views if total is None else max(views, total + unsynced)

    @classmethod
    def count_for(cls, page) -> int:
        page_id = page if isinstance(page, int) else page.pk
        return cls.objects.filter(page_id=page_id).values_list("views", flat=True).first() or 0
