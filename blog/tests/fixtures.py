"""Shared page fixtures for the home and blog tests: the blog index under the
home page (created by home's migrations) and published articles."""

import itertools

import pytest
from django.core.cache import cache
from django.utils.text import slugify

from blog.demo import demo_image
from blog.models import BlogIndexPage, BlogPage
from home.models import HomePage

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Tests start with an empty cache: Redis (in .ci/run) outlives a test's transaction."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def home_page(db):
    return HomePage.objects.get()


@pytest.fixture
def blog_index(home_page):
    index = BlogIndexPage(title="Blog", slug="blog", intro="News")
    home_page.add_child(instance=index)
    index.save_revision().publish()
    return index


def publish_article(index, title=None, *, image=True, **fields) -> BlogPage:
    title = title or f"Article {next(_numbers)}"
    if image is True:
        image = demo_image(title, (37, 99, 235), size=(160, 90))
    article = BlogPage(
        title=title,
        slug=slugify(title),
        intro=f"About {title}",
        image=image or None,
        body=[("heading", "Inside"), ("paragraph", f"<p>The body of {title}.</p>")],
        **fields,
    )
    index.add_child(instance=article)
    article.save_revision().publish()
    article.refresh_from_db()
    return article


@pytest.fixture
def make_article(blog_index):
    def make(title=None, **fields):
        return publish_article(blog_index, title, **fields)

    return make
