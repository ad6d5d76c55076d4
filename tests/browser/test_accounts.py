"""Accounts seen by a person: sign up, open the link the worker mailed, land logged in."""

import re
import time
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import login

PASSWORD = "a-Strong-passw0rd!"


def submit(page):
    page.locator("main form button[type=submit]").first.click()


def open_outbox_message_to(page, email, timeout=30):
    """The worker sends through the sink; the outbox page lists what arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto("/outbox/")
        row = page.locator("tr", has_text=email)
        if row.count():
            row.first.locator("a").click()
            return
        time.sleep(0.3)
    raise AssertionError(f"no mail to {email} reached the outbox in {timeout}s")


def test_sign_up_open_the_verification_link_from_the_outbox_and_land_logged_in(page, stack):
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/")
    page.locator("#nav").get_by_role("link", name="Sign up").click()
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/accounts/signup/done/$"))
    expect(page.locator("main")).to_contain_text(email)

    # Not verified yet: login is refused with the re-send option.
    login(page, email, PASSWORD)
    expect(page.locator("main")).to_contain_text("Please verify your email address first")
    expect(page.locator("#unverified a")).to_be_visible()

    open_outbox_message_to(page, email)
    link = page.locator(f"pre a[href^='{stack.url}/accounts/verify/']")
    expect(link).to_have_count(1)
    link.click()

    expect(page).to_have_url(re.compile(r"/app/$"))
    expect(page.locator("main")).to_contain_text("Your email address is verified")
    expect(page.locator("#nav-profile")).to_have_text(email)

    # The link worked once.
    page.go_back()
    page.locator(f"pre a[href^='{stack.url}/accounts/verify/']").click()
    expect(page.locator("#reason")).to_contain_text("already used")


def test_customer_edits_the_profile(page):
    login(page, "customer@mailsite.test", "demo-customer")
    expect(page).to_have_url(re.compile(r"/app/$"))
    page.click("#nav-profile")
    page.fill("input[name=company]", "Demo Widgets Ltd")
    page.fill("input[name=phone]", "+44 20 7946 0000")
    submit(page)
    expect(page.locator("main")).to_contain_text("Your profile is saved.")
    expect(page.locator("input[name=company]")).to_have_value("Demo Widgets Ltd")
