"""The blog: index, articles, view counts, the editor's workflow, feed and sitemap."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule
from wagtail.test.utils.form_data import nested_form_data, querydict_from_html, streamfield

from blog import view_counts
from blog.models import ARTICLES_PER_PAGE, BlogPage, BlogPageViews
from blog.tasks import publish_scheduled_pages

pytestmark = pytest.mark.django_db


def editor_form(client, url, **changes):
    """The editor's form as the browser would post it; the body's StreamField is built by JavaScript, so we give it."""
    data = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form")
    data.update(nested_form_data({"body": streamfield([("heading", "Written in the editor")])}))
    data.update(changes)
    return data


def shown_views(response) -> int:
    return int(re.search(r'data-testid="views">(\d+) view', response.content.decode()).group(1))


def test_each_visit_adds_one_view_and_shows_the_exact_count(client, make_article):
    article = make_article()
    for expected in (1, 2, 3):
        response = client.get(article.url)
        assert response.status_code == 200
        assert shown_views(response) == expected
    view_counts.flush()  # with Redis, the count of record follows a minute later
    assert BlogPageViews.objects.get(page=article).views == 3


def test_head_requests_do_not_count(client, make_article):
    article = make_article()
    assert client.head(article.url).status_code == 200
    assert BlogPageViews.current(article.pk) == 0


def test_previews_and_drafts_in_the_editor_do_not_count(client, editor, make_article):
    article = make_article()
    client.get(article.url)
    client.force_login(editor)
    response = client.get(reverse("wagtailadmin_pages:view_draft", args=[article.pk]))
    assert response.status_code == 200
    assert "The body of" in response.content.decode()
    edit_url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    data = editor_form(client, edit_url, title="Preview title")
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[article.pk])
    assert client.post(preview_url, data).json()["is_valid"]
    response = client.get(preview_url)
    assert "Preview title" in response.content.decode()
    # The editor reading the live site is not a visitor either.
    client.get(article.url)
    assert BlogPageViews.current(article.pk) == 1


def test_preview_of_a_new_article_before_it_is_saved(client, editor, blog_index):
    client.force_login(editor)
    add_url = reverse("wagtailadmin_pages:add", args=["blog", "blogpage", blog_index.pk])
    preview_url = reverse("wagtailadmin_pages:preview_on_add", args=["blog", "blogpage", blog_index.pk])
    data = editor_form(client, add_url, title="Not saved yet", slug="not-saved-yet")
    assert client.post(preview_url, data).json()["is_valid"]
    response = client.get(preview_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved yet" in html
    assert "Written in the editor" in html
    assert '<p class="text-muted small" data-testid="views">0 views</p>' in html
    assert not BlogPage.objects.filter(slug="not-saved-yet").exists()


def test_home_page_preview_shows_the_draft_hero(client, editor, home_page):
    client.get("/en/")  # the live hero is now in the cache
    client.force_login(editor)
    edit_url = reverse("wagtailadmin_pages:edit", args=[home_page.pk])
    data = querydict_from_html(client.get(edit_url).content.decode(), form_id="page-edit-form")
    data.update(nested_form_data({"sections": streamfield([])}))
    data["hero_title"] = "Draft hero"
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[home_page.pk])
    assert client.post(preview_url, data).json()["is_valid"]
    assert "Draft hero" in client.get(preview_url).content.decode()
    assert "Draft hero" not in client.get("/en/").content.decode()


def test_publishing_a_new_revision_keeps_the_count(client, make_article):
    article = make_article()
    for _ in range(5):
        client.get(article.url)
    revision = article.save_revision()
    article.title = "Changed"
    client.get(article.url)
    revision.publish()
    article = BlogPage.objects.get(pk=article.pk)
    article.title = "Changed again"
    article.save_revision().publish()
    response = client.get(article.url)
    assert "Changed again" in response.content.decode()
    assert shown_views(response) == 7


def test_editor_sees_the_count_but_cannot_edit_it(client, editor, make_article):
    article = make_article()
    client.get(article.url)
    client.get(article.url)
    client.force_login(editor)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert '<p data-testid="editor-views">2 views by visitors</p>' in html
    assert 'name="views"' not in html


def test_publish_date_defaults_to_the_day_of_first_publication(make_article):
    article = make_article()
    assert article.date == timezone.localdate()
    chosen = make_article(date=date(2024, 2, 29))
    assert chosen.date == date(2024, 2, 29)
    chosen.title = "Edited"
    chosen.save_revision().publish()
    chosen.refresh_from_db()
    assert chosen.date == date(2024, 2, 29)


def test_draft_articles_are_not_served_and_not_counted(client, blog_index):
    draft = BlogPage(title="Draft", slug="draft")
    blog_index.add_child(instance=draft)
    draft.unpublish()
    assert client.get("/en/blog/draft/").status_code == 404
    assert BlogPageViews.current(draft.pk) == 0


def test_index_lists_newest_first_with_pages(client, make_article):
    today = timezone.localdate()
    for days in range(ARTICLES_PER_PAGE + 2):
        make_article(f"Day {days}", date=today - timedelta(days=days))
    first = client.get("/en/blog/").content.decode()
    titles = re.findall(r'text-decoration-none">(Day \d+)</a>', first)
    assert titles == [f"Day {d}" for d in range(ARTICLES_PER_PAGE)]
    second = client.get("/en/blog/?page=2").content.decode()
    assert re.findall(r'text-decoration-none">(Day \d+)</a>', second) == ["Day 9", "Day 10"]
    assert client.get("/en/blog/?page=abc").status_code == 200


def test_index_fragment_follows_publishing(client, make_article):
    make_article("First")
    assert "First" in client.get("/en/blog/").content.decode()
    second = make_article("Second")
    assert "Second" in client.get("/en/blog/").content.decode()
    second.title = "Second, renamed"
    second.save_revision().publish()
    assert "Second, renamed" in client.get("/en/blog/").content.decode()
    second.unpublish()
    assert "Second" not in client.get("/en/blog/").content.decode()


def test_article_body_fragment_follows_a_new_revision(client, make_article):
    article = make_article()
    client.get(article.url)
    article.body = [("paragraph", "<p>Brand new words.</p>")]
    article.save_revision().publish()
    assert "Brand new words." in client.get(article.url).content.decode()


def test_article_shows_its_image_rendition(client, make_article):
    article = make_article()
    html = client.get(article.url).content.decode()
    assert re.search(r'<img[^>]+src="/media/images/[^"]+fill-1200x500', html)


def test_rss_feed_lists_the_articles(client, make_article):
    make_article("Feed me")
    make_article("Feed me too")
    response = client.get("/en/blog/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    body = response.content.decode()
    assert "<title>Feed me</title>" in body
    assert "<title>Feed me too</title>" in body
    assert "http://testserver/en/blog/feed-me/" in body


def test_sitemap_lists_the_articles(client, make_article):
    article = make_article("On the map")
    body = client.get("/sitemap.xml").content.decode()
    assert f"/blog/{article.slug}/" in body
    assert "/blog/</loc>" in body


def test_editor_creates_schedules_and_unpublishes_in_the_wagtail_editor(client, editor, blog_index):
    client.force_login(editor)
    assert client.get(reverse("wagtailimages:add")).status_code == 200
    add_url = reverse("wagtailadmin_pages:add", args=["blog", "blogpage", blog_index.pk])
    data = editor_form(client, add_url, title="Written in Wagtail", slug="written-in-wagtail")
    data["action-publish"] = "action-publish"
    response = client.post(add_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    article = BlogPage.objects.get(slug="written-in-wagtail")
    assert article.live
    assert article.date == timezone.localdate()
    assert "Written in Wagtail" in client.get("/en/").content.decode()

    response = client.post(reverse("wagtailadmin_pages:unpublish", args=[article.pk]))
    assert response.status_code == 302
    article.refresh_from_db()
    assert not article.live
    assert client.get("/en/blog/written-in-wagtail/").status_code == 404
    assert "Written in Wagtail" not in client.get("/en/").content.decode()

    # Schedule: a publication time in the future; the scheduler publishes it when due.
    edit_url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    go_live = timezone.localtime() + timedelta(days=2)
    data = editor_form(client, edit_url, title="Scheduled title", go_live_at=go_live.strftime("%Y-%m-%d %H:%M"))
    data["action-publish"] = "action-publish"
    assert client.post(edit_url, data).status_code == 302
    article.refresh_from_db()
    assert not article.live
    assert article.scheduled_revision is not None
    # django-q2 runs this every minute (schedule made by blog's migration 0002).
    schedule = Schedule.objects.get(name="Publish scheduled pages")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == ("blog.tasks.publish_scheduled_pages", "I", 1)
    with time_machine.travel(go_live + timedelta(minutes=1)):
        publish_scheduled_pages()
    article.refresh_from_db()
    assert article.live
    assert article.title == "Scheduled title"
    assert "Scheduled title" in client.get("/en/").content.decode()
