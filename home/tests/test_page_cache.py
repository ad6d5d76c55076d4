"""The whole-page cache for anonymous visitors (core/page_cache.py), with the real
cache (the database cache table here, Redis in .ci/run): stored pages keep their
per-request holes fresh, published edits show at once, languages and logged-in
users never get someone else's page."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Locale, PageViewRestriction

from blog.tests.fixtures import publish_article
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


def app_queries(client, url, **kwargs):
    """The response and the SQL it ran, leaving out the database cache table's."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **kwargs)
    sql = [q["sql"] for q in ctx.captured_queries]
    return response, [q for q in sql if "mailsite_cache" not in q and not q.startswith(("BEGIN", "COMMIT", "SAVE"))]


def stored(client, url):
    """Warm `url`, then check the next anonymous GET comes from the stored page (no Wagtail queries)."""
    client.get("/en/blog/")  # renders every card once, as the home page's random ones
    client.get(url)
    response, sql = app_queries(client, url)
    assert response.status_code == 200
    assert not [q for q in sql if "wagtailcore_page" in q], sql
    return response


def test_a_stored_home_page_keeps_its_numbers_and_random_articles_fresh(client, blog_index):
    for _ in range(5):
        publish_article(blog_index)
    MailingFactory(clients=ClientFactory.create_batch(2))
    html = stored(client, "/en/").content.decode()
    assert re.search(r'data-testid="stat-mailings">1<', html)

    MailingFactory(clients=ClientFactory.create_batch(3))
    seen = set()
    for _ in range(12):
        page = client.get("/en/").content.decode()
        assert re.search(r'data-testid="stat-mailings">2<', page)
        assert re.search(r'data-testid="stat-unique-clients">5<', page)
        cards = re.findall(r'href="(/en/blog/[^"]+)" class="stretched-link', page)
        assert len(set(cards)) == 3
        seen.add(tuple(cards))
    assert len(seen) > 1  # a new random choice on a stored page too


def test_a_stored_article_counts_every_view(client, blog_index):
    article = publish_article(blog_index)
    stored(client, article.url)  # two views
    response, sql = app_queries(client, article.url)
    assert 'data-testid="views">3 views<' in response.content.decode()
    if "django_redis" in settings.CACHES["default"]["BACKEND"]:
        assert sql == []  # one INCR in Redis (blog/view_counts.py)
    else:
        assert len(sql) == 1
        assert "RETURNING" in sql[0]
    ru = client.get(article.url, headers={"accept-language": "ru"})
    assert "4 view" in ru.content.decode()  # the URL's prefix decides the language


def test_a_stored_page_gives_no_csrf_cookie_and_its_language_switch_works(blog_index):
    visitor = Client(enforce_csrf_checks=True)
    stored(visitor, "/en/")
    response = visitor.get("/en/")
    assert not response.cookies
    assert "csrfmiddlewaretoken" not in response.content.decode()
    answer = visitor.post(
        "/accounts/language/", {"language": "ru", "next": "/en/"}, headers={"sec-fetch-site": "same-origin"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/ru/"


def test_published_edits_show_at_once(client, home_page, blog_index):
    article = publish_article(blog_index, "First title")
    for url in ("/en/", article.url, "/en/blog/"):
        stored(client, url)

    home_page.hero_title = "A new hero"
    home_page.save_revision().publish()
    article.title = "Second title"
    article.save_revision().publish()
    assert "A new hero" in client.get("/en/").content.decode()
    assert "Second title" in client.get(article.url).content.decode()
    assert "Second title" in client.get("/en/blog/").content.decode()
    assert "Second title" in client.get("/en/").content.decode()  # its card

    article.unpublish()
    assert client.get(article.url).status_code == 404
    assert "Second title" not in client.get("/en/blog/").content.decode()
    assert "Second title" not in client.get("/en/").content.decode()


def test_a_view_restriction_applies_to_a_stored_page_at_once(client, blog_index):
    article = publish_article(blog_index, "Members only")
    stored(client, article.url)
    PageViewRestriction.objects.create(page=article, restriction_type=PageViewRestriction.PASSWORD, password="x")
    html = client.get(article.url).content.decode()
    assert "The body of Members only" not in html
    assert 'name="password"' in html


def test_logged_in_users_neither_get_nor_leave_stored_pages(client, user, editor, blog_index):
    article = publish_article(blog_index)
    for url in ("/en/", article.url):
        stored(client, url)
    for person in (user, editor):
        member = Client()
        member.force_login(person)
        html = member.get("/en/").content.decode()
        assert 'data-testid="cta-dashboard"' in html
        assert 'data-testid="cta-signup"' not in html
        assert person.email in html
        assert member.get(article.url).status_code == 200
    html = client.get("/en/").content.decode()
    assert 'data-testid="cta-signup"' in html
    assert "cta-dashboard" not in html
    assert user.email not in html
    assert editor.email not in html
    # The editor's read was not counted: 2 anonymous, the customer's, this one.
    assert 'data-testid="views">4 views<' in client.get(article.url).content.decode()


def test_each_language_has_its_own_page(client, home_page, blog_index):
    russian = Locale.objects.get(language_code="ru")
    home_ru = home_page.copy_for_translation(russian)
    home_ru.hero_title = "Рассылки по-русски"
    home_ru.save_revision().publish()
    home_page.hero_title = "Mailings in English"
    home_page.save_revision().publish()
    for _ in range(2):
        en, ru = client.get("/en/").content.decode(), client.get("/ru/").content.decode()
        assert '<html lang="en">' in en
        assert "Mailings in English" in en
        assert "Рассылки по-русски" not in en
        assert '<html lang="ru">' in ru
        assert "Рассылки по-русски" in ru
        assert "Mailings in English" not in ru


def test_sessions_other_query_strings_and_posts_are_never_served_stored(client, blog_index):
    publish_article(blog_index)
    stored(client, "/en/blog/")
    for kwargs in ({"query": "?utm_source=x"}, {"cookie": "sessionid"}, {"cookie": "messages"}):
        visitor = Client()
        if "cookie" in kwargs:
            visitor.cookies[kwargs["cookie"]] = "something"
        for _ in range(2):
            response, sql = app_queries(visitor, "/en/blog/" + kwargs.get("query", ""))
            assert response.status_code == 200
            assert [q for q in sql if "wagtailcore_page" in q], kwargs
    # ?page=N is a page of its own.
    stored(client, "/en/blog/?page=1")


def test_a_page_stored_by_another_release_is_never_served(client, blog_index, monkeypatch):
    """A deploy (other code, templates or hashed static names) renders afresh:
    the stored page of the old release, still in a shared cache, is not used."""
    from core import page_cache

    stored(client, "/en/")
    monkeypatch.setattr(page_cache, "_build", "another-release")
    response, sql = app_queries(client, "/en/")
    assert response.status_code == 200
    assert [q for q in sql if "wagtailcore_page" in q]  # rendered, not served from the store
    stored(client, "/en/")  # and stored again under the new release


def test_the_release_fingerprint_follows_the_static_files_storage(settings):
    from core import page_cache

    before = page_cache.build_id()
    assert page_cache.build_id() == before  # computed once per process
    settings.STATIC_URL = "/assets/"
    assert page_cache.build_id() != before
