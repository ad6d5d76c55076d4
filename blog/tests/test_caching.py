"""Query budgets with a warm cache, exact counts under concurrency, and pages
that still answer when Redis is down."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from blog import view_counts
from blog.models import BlogPageViews
from blog.tests.fixtures import publish_article
from mailings.tests.factories import ClientFactory, MailingFactory

# With a warm cache, the database queries a page runs for an anonymous visitor,
# not counting cache reads: the home page is stored whole and its holes (numbers,
# random articles) read the cache only = 0; an article adds the visitor's view
# and reads the fresh count: one UPDATE ... RETURNING with the database cache,
# one INCR and no SQL with Redis (blog/view_counts.py).
HOME_PAGE_QUERIES = 0
# Cache reads then: one get_many of the version and the holes' values (the page
# and the cards are kept by the process under keys that name their version).
HOME_PAGE_CACHE_READS = 1
ARTICLE_CACHE_READS = 1


def is_cache_query(sql: str) -> bool:
    # The database cache table (the default without REDIS_URL) answers cache reads in SQL.
    return "mailsite_cache" in sql or sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))


def measure(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    app = [q["sql"] for q in ctx.captured_queries if not is_cache_query(q["sql"])]
    return len(app), len(ctx.captured_queries)


def warm(client, *urls):
    client.get("/en/blog/")  # renders every article card, as the home page's cards
    for url in urls:
        client.get(url)
        client.get(url)


@pytest.mark.django_db
def test_home_page_query_budget_does_not_grow_with_the_data(client, blog_index):
    articles = [publish_article(blog_index) for _ in range(4)]
    MailingFactory(clients=ClientFactory.create_batch(2))
    warm(client, "/en/")
    small = measure(client, "/en/")

    for _ in range(5):
        publish_article(blog_index)
    for _ in range(6):
        MailingFactory(clients=ClientFactory.create_batch(4))
    warm(client, "/en/")
    large = measure(client, "/en/")

    assert small[0] == large[0] == HOME_PAGE_QUERIES
    assert small[1] == large[1]  # cache reads included: still fixed
    if connection.vendor == "sqlite" and "DatabaseCache" in settings.CACHES["default"]["BACKEND"]:
        assert small[1] == HOME_PAGE_CACHE_READS
    assert len(articles) == 4


@pytest.mark.django_db
def test_article_query_budget_does_not_grow_with_the_data(client, blog_index):
    article = publish_article(blog_index)
    warm(client, article.url)
    small = measure(client, article.url)

    for _ in range(6):
        publish_article(blog_index)
        MailingFactory(clients=ClientFactory.create_batch(3))
    warm(client, article.url)
    large = measure(client, article.url)

    article_queries = 0 if "django_redis" in settings.CACHES["default"]["BACKEND"] else 1
    assert small[0] == large[0] == article_queries
    assert small[1] == large[1]
    if connection.vendor == "sqlite" and "DatabaseCache" in settings.CACHES["default"]["BACKEND"]:
        assert small[1] == ARTICLE_CACHE_READS + article_queries


@pytest.mark.django_db
def test_pages_answer_when_redis_is_down(client, settings, blog_index):
    from core.testing.smtp import free_port

    article = publish_article(blog_index)
    MailingFactory(clients=[ClientFactory()])
    # The production cache settings, pointed at a port where nothing listens.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    home = client.get("/en/")
    assert home.status_code == 200
    assert re.search(r'data-testid="stat-mailings">1<', home.content.decode())
    assert home.content.decode().count('data-testid="article-card"') == 1
    for expected in (1, 2):
        response = client.get(article.url)
        assert response.status_code == 200
        assert f'data-testid="views">{expected} view' in response.content.decode()
    assert client.get("/en/blog/").status_code == 200
    assert client.get("/en/blog/feed/").status_code == 200


@pytest.mark.service
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_view_counts_exact_under_concurrent_requests_on_postgresql(blog_index):
    assert connection.vendor == "postgresql", "set DATABASE_URL to PostgreSQL (.ci/run does)"
    article = publish_article(blog_index)
    url = article.url
    threads, per_thread = 8, 25

    def visit(_):
        client = Client()
        try:
            return [client.get(url).status_code for _ in range(per_thread)]
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = [status for batch in pool.map(visit, range(threads)) for status in batch]

    assert statuses == [200] * threads * per_thread
    assert BlogPageViews.current(article.pk) == 200
    view_counts.flush()
    assert BlogPageViews.count_for(article) == 200


@pytest.mark.service
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_view_commits_without_waiting_for_the_disk_and_nothing_else_does(blog_index):
    """The view count's SET LOCAL synchronous_commit ends with its own statement pair."""
    assert connection.vendor == "postgresql", "set DATABASE_URL to PostgreSQL (.ci/run does)"
    article = publish_article(blog_index)
    BlogPageViews.record(article.pk)
    assert BlogPageViews.record(article.pk) == 2
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
