"""The foundation seen by a person: the home page and the Wagtail admin login."""

import re

from playwright.sync_api import expect


def test_home_page_and_wagtail_admin_login_as_demo_superuser(page):
    page.goto("/")
    expect(page.locator("h1").first).to_be_visible()
    expect(page).to_have_title("Mailsite · Mailsite")

    page.goto("/admin/")
    page.fill("input[name=username]", "admin@mailsite.test")
    page.fill("input[name=password]", "demo-admin")
    page.click("button[type=submit]")
    expect(page).to_have_title(re.compile("Dashboard"))
    expect(page.locator("main")).to_contain_text("Mailsite")
    expect(page).to_have_url(re.compile(r"/admin/$"))
