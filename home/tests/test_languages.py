"""The site's pages in Russian and English, the Wagtail way: /ru/ and /en/, translations
made with copy_for_translation, each with its own articles, view counts and caches."""

import pytest
from wagtail.models import Locale

from blog.models import BlogPageViews
from blog.tests.fixtures import publish_article
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def russian(db):
    return Locale.objects.get(language_code="ru")


@pytest.fixture
def home_ru(home_page, russian):
    page = home_page.copy_for_translation(russian)
    page.title = "Mailsite"
    page.hero_title = "Рассылки по-русски"
    page.save_revision().publish()
    return page


@pytest.fixture
def blog_ru(blog_index, home_ru, russian):
    index = blog_index.copy_for_translation(russian)
    index.title = "Блог"
    index.save_revision().publish()
    return index


def translate(article, locale, title):
    translation = article.copy_for_translation(locale)
    translation.title = title
    translation.save_revision().publish()
    translation.refresh_from_db()
    return translation


@pytest.mark.parametrize(
    ("accept", "target"), [("ru-RU,ru;q=0.9", "/ru/"), ("en-US", "/en/"), ("fr-FR,fr;q=0.9", "/en/"), ("", "/en/")]
)
def test_the_root_sends_a_visitor_to_their_language(client, home_ru, accept, target):
    response = client.get("/", headers={"accept-language": accept} if accept else {})
    assert response.status_code == 302
    assert response["Location"] == target


def test_a_russian_browser_gets_russian_on_unprefixed_screens(client, db):
    html = client.get("/accounts/login/", headers={"accept-language": "ru"}).content.decode()
    assert '<html lang="ru">' in html
    assert "Войти" in html


def test_a_view_404_stays_a_404_and_is_not_sent_to_a_language(user_client):
    assert user_client.get("/app/clients/999999/edit/").status_code == 404
    assert user_client.get("/blog/").status_code == 302  # matched nothing: sent to /en/blog/


def test_each_language_shows_its_own_articles_and_the_same_numbers(client, blog_index, blog_ru, russian):
    english = [publish_article(blog_index, f"Anglo {n}") for n in range(4)]
    for article in english:
        translate(article, russian, f"Русская {article.title[-1]}")
    MailingFactory(clients=ClientFactory.create_batch(2))

    html_en = client.get("/en/").content.decode()
    html_ru = client.get("/ru/").content.decode()
    assert html_en.count('data-testid="article-card"') == html_ru.count('data-testid="article-card"') == 3
    assert "Русская" not in html_en
    assert ">Anglo" not in html_ru
    assert "Рассылки по-русски" in html_ru
    for stat in ("stat-mailings", "stat-active-mailings", "stat-unique-clients"):
        number = f'data-testid="{stat}">'
        assert html_en.split(number)[1].split("<")[0] == html_ru.split(number)[1].split("<")[0]

    index_ru = client.get("/ru/blog/").content.decode()
    assert index_ru.count('data-testid="article-card"') == 4
    assert ">Anglo" not in index_ru
    feed_ru = client.get("/ru/blog/feed/").content.decode()
    assert "Русская 0" in feed_ru
    assert "<title>Anglo" not in feed_ru


def test_each_translation_keeps_its_own_view_count(client, blog_index, blog_ru, russian):
    article = publish_article(blog_index, "Counted")
    translation = translate(article, russian, "Считаем")
    for _ in range(3):
        client.get(article.url)
    client.get(translation.url)
    assert (BlogPageViews.current(article.pk), BlogPageViews.current(translation.pk)) == (3, 1)
    html = client.get(translation.url).content.decode()
    assert "2 просмотра" in html


def test_cached_fragments_follow_the_language_of_the_page(client, home_page, home_ru):
    home_page.hero_title = "Mailings in English"
    home_page.save_revision().publish()
    assert "Mailings in English" in client.get("/en/").content.decode()
    html_ru = client.get("/ru/").content.decode()
    assert "Рассылки по-русски" in html_ru
    assert "Mailings in English" not in html_ru


def test_the_sitemap_lists_both_languages(client, blog_index, blog_ru, russian):
    article = publish_article(blog_index, "Mapped")
    translate(article, russian, "На карте")
    body = client.get("/sitemap.xml").content.decode()
    for url in ("/en/", "/ru/", "/en/blog/mapped/", "/ru/blog/mapped/"):
        assert f"http://localhost{url}</loc>" in body or f"{url}</loc>" in body
