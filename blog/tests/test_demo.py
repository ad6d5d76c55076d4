import io

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
    assert BlogIndexPage.objects.get().url == "/blog/"
    articles = BlogPage.objects.live()
    assert articles.count() >= 6
    assert all(a.image and a.image.width > 0 for a in articles)
    assert HomePage.objects.get().hero_intro
    html = client.get("/").content.decode()
    assert html.count('data-testid="article-card"') == 3
    assert client.get(articles.first().url).status_code == 200
