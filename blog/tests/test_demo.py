import io
import re

import pytest
from django.core.management import call_command

from blog.models import BlogIndexPage, BlogPage
from home.models import HomePage


@pytest.mark.django_db
def test_load_demo_builds_the_site_and_is_idempotent(client):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=out)
    assert "(0 new)" in out.getvalue()
    assert sorted(index.url for index in BlogIndexPage.objects.all()) == ["/en/blog/", "/ru/blog/"]
    articles = BlogPage.objects.live()
    assert articles.filter(locale__language_code="en").count() >= 6
    assert articles.filter(locale__language_code="ru").count() == articles.filter(locale__language_code="en").count()
    assert all(a.image and a.image.width > 0 for a in articles)
    assert all(home.hero_intro for home in HomePage.objects.all())
    assert client.get(articles.first().url).status_code == 200


@pytest.mark.django_db
def test_demo_content_exists_in_both_languages_written_separately(client):
    call_command("load_demo", stdout=io.StringIO())
    english, russian = (HomePage.objects.get(locale__language_code=code) for code in ("en", "ru"))
    assert english.translation_key == russian.translation_key
    assert "клиент" in russian.hero_title
    assert "client" in english.hero_title
    for article in BlogPage.objects.live().filter(locale__language_code="en"):
        translation = article.get_translation(russian.locale)
        assert translation.live
        assert translation.title != article.title
        assert re.search("[а-я]", translation.title + translation.intro)
        assert re.search("[а-я]", str(translation.body))
    html_en = client.get("/en/").content.decode()
    html_ru = client.get("/ru/").content.decode()
    assert html_en.count('data-testid="article-card"') == html_ru.count('data-testid="article-card"') == 3
    assert '<html lang="ru">' in html_ru
    assert '<html lang="en">' in html_en


@pytest.mark.django_db
def test_content_editors_may_edit_both_languages(editor):
    call_command("load_demo", stdout=io.StringIO())
    for home in HomePage.objects.all():
        assert home.permissions_for_user(editor).can_edit(), home.locale
