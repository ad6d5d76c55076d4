"""The public pages seen by a visitor: the home page's numbers and three
articles, and an article whose view count rises with each visit."""

import re
import sqlite3

from playwright.sync_api import expect


def database_numbers(stack) -> dict[str, int]:
    with sqlite3.connect(stack.root / "db.sqlite3") as db:
        mailings, active = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(status = 'running' AND is_active), 0) FROM mailings_mailing"
        ).fetchone()
        (clients,) = db.execute(
            "SELECT COUNT(DISTINCT lower(c.email)) FROM mailings_mailing_clients mc "
            "JOIN mailings_client c ON c.id = mc.client_id"
        ).fetchone()
    return {"mailings": mailings, "active-mailings": active, "unique-clients": clients}


def test_home_page_shows_the_numbers_and_three_articles(page, stack):
    page.goto("/")
    shown = {name: int(page.get_by_test_id(f"stat-{name}").inner_text()) for name in database_numbers(stack)}
    assert shown == database_numbers(stack)
    cards = page.get_by_test_id("article-card")
    expect(cards).to_have_count(3)
    titles = cards.locator("h3").all_inner_texts()
    assert len(set(titles)) == 3
    expect(page.get_by_test_id("cta-login")).to_be_visible()


def test_opening_an_article_raises_its_view_count(page):
    page.goto("/")
    page.get_by_test_id("article-card").first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/blog/[\w-]+/$"))
    views = page.get_by_test_id("views")
    before = int(re.match(r"\d+", views.inner_text()).group())
    page.reload()
    expect(views).to_have_text(re.compile(rf"^{before + 1} views?$"))
    page.goto("/blog/")
    expect(page.get_by_test_id("article-card").first).to_be_visible()
    assert page.get_by_test_id("article-card").count() >= 6
