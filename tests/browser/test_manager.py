"""The demo manager in the Wagtail admin: finds a mailing, disables it with a
reason, blocks its owner; the owner can no longer log in."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot

OWNER_EMAIL = "owner-to-block@mailsite.test"
OWNER_PASSWORD = "owner-password-123"
SUBJECT = "Browser test: spring offers"

# Runs inside the stack's own process (its database), as demo data might not
# hold a mailing on every branch.
CREATE_OWNER_AND_MAILING = f"""
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from mailings.models import Client, Mailing, Message
from mailings.services import grant_owner_perms

owner, _ = User.objects.get_or_create(email={OWNER_EMAIL!r}, defaults={{"is_verified": True}})
owner.set_password({OWNER_PASSWORD!r})
owner.is_verified = True
owner.save()
message = Message.objects.create(owner=owner, subject={SUBJECT!r}, body="Hello")
client = Client.objects.create(owner=owner, email="reader@example.org", full_name="Reader")
start = timezone.now() + timedelta(days=1)
mailing = Mailing.objects.create(owner=owner, message=message, start_at=start, end_at=start + timedelta(days=7))
mailing.clients.set([client])
for obj in (message, client, mailing):
    grant_owner_perms(obj, owner)
"""


@pytest.fixture
def owner_with_mailing(stack):
    stack.manage("shell", "-c", CREATE_OWNER_AND_MAILING)


def test_manager_disables_a_mailing_and_blocks_its_owner(page, browser, stack, owner_with_mailing):
    # The manager logs into the Wagtail admin.
    page.goto("/admin/")
    page.fill("input[name=username]", "manager@mailsite.test")
    page.fill("input[name=password]", "demo-manager")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("[data-service-totals]")).to_be_visible()

    # Finds the mailing through the Mailings menu and its search.
    page.get_by_role("button", name="Mailings").click()
    page.get_by_role("link", name="Mailings").last.click()
    expect(page).to_have_url(re.compile(r"/admin/mailings/mailing/"))
    page.fill("input[name=q]", "spring offers")
    page.keyboard.press("Enter")
    row = page.locator("tr", has_text=SUBJECT)
    expect(row).to_have_count(1)
    # No edit or delete anywhere: the admin is read-only.
    expect(page.locator("a[href*='/edit/'], a[href*='/delete/']")).to_have_count(0)

    # Disables it with a reason, from the row's actions menu.
    row.get_by_role("button", name="Actions").click()
    row.get_by_role("link", name="Disable", exact=True).click()
    page.fill("textarea[name=reason]", "Recipients reported this mailing as spam")
    page.get_by_role("button", name="Disable").click()
    expect(page.locator("main")).to_contain_text("Recipients reported this mailing as spam")
    expect(page.get_by_text(re.compile("disabled", re.IGNORECASE)).first).to_be_visible()

    # Blocks its owner from the Users list.
    page.goto("/admin/accounts/user/")
    page.fill("input[name=q]", OWNER_EMAIL)
    page.keyboard.press("Enter")
    owner_row = page.locator("tr", has_text=OWNER_EMAIL)
    expect(owner_row).to_have_count(1)
    owner_row.get_by_role("button", name="Actions").click()
    owner_row.get_by_role("link", name="Block", exact=True).click()
    page.fill("textarea[name=reason]", "Repeated spam")
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.locator("main")).to_contain_text("Blocked: Repeated spam")

    # The audit trail shows both actions in the site history report.
    page.goto("/admin/reports/site-history/")
    expect(page.locator("main")).to_contain_text("Mailing disabled: Recipients reported this mailing as spam")
    expect(page.locator("main")).to_contain_text("User blocked: Repeated spam")

    # The owner can no longer log in.
    owner_context = browser.new_context(base_url=stack.url)
    owner_page = owner_context.new_page()
    try:
        login(owner_page, OWNER_EMAIL, OWNER_PASSWORD)
        expect(owner_page).to_have_url(re.compile(r"/accounts/login/"))
        # Refused: Django's generic message, or a message about the block.
        expect(owner_page.locator("main")).to_contain_text(
            re.compile(r"correct email address and password|blocked", re.IGNORECASE)
        )
        owner_page.goto("/app/")
        expect(owner_page).to_have_url(re.compile(r"/accounts/login/"))
    finally:
        owner_context.close()


# A long owner address and subject: the list must still read well at 1280 px.
LONG_OWNER = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from mailings.models import Client, Mailing, Message
from mailings.services import grant_owner_perms

owner, _ = User.objects.get_or_create(
    email="a.very.long.address.of.a.customer.company@subsidiary.example-holding.org", defaults={"is_verified": True}
)
subject = "Quarterly newsletter with the complete product catalogue"
message = Message.objects.create(owner=owner, subject=subject, body="Hi")
start = timezone.now() + timedelta(days=1)
mailing = Mailing.objects.create(owner=owner, message=message, start_at=start, end_at=start + timedelta(days=7))
for obj in (message, mailing):
    grant_owner_perms(obj, owner)
"""


def test_the_managers_mailing_list_reads_well_at_1280(page, stack):
    stack.manage("shell", "-c", LONG_OWNER)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/admin/")
    expect(page.locator("h1")).to_contain_text("Mailsite")  # the login page is branded too
    page.fill("input[name=username]", "manager@mailsite.test")
    page.fill("input[name=password]", "demo-manager")
    page.click("button[type=submit]")
    expect(page.locator("h1").first).to_have_text("Welcome to Mailsite")
    expect(page.get_by_placeholder("Search all pages…")).to_have_count(0)
    expect(page.locator("canvas[data-chart=chart-service-daily-data]")).to_have_count(1)

    page.goto("/admin/mailings/mailing/")
    table = page.locator("table.listing")
    expect(table).to_be_visible()
    # Nothing wider than the window, no cell that breaks words, the actions folded into a menu.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    styles = page.evaluate(
        """() => [...document.querySelectorAll("table.listing td")].map(td => {
            const s = getComputedStyle(td); return s.wordBreak + "/" + s.overflowWrap; })"""
    )
    assert set(styles) == {"normal/normal"}, set(styles)
    expect(page.locator("table.listing thead th")).to_have_count(5)
    expect(page.get_by_role("link", name="Disable", exact=True)).to_have_count(0)  # hidden in the menus
    owner = page.locator("td .mailsite-truncate").first
    expect(owner).to_have_attribute("title", re.compile("@"))
    expect(page.get_by_text("Owner", exact=True)).to_have_count(1)  # a column, no owner filter
    screenshot(page, "admin-mailing-list")

    # The manager on the site sees the way back to the admin.
    page.goto("/app/")
    expect(page.locator("#nav-admin")).to_have_attribute("href", "/admin/")
