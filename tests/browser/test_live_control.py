"""A customer watches, pauses, resumes and cancels a run in the browser,
against the stack's slow local mail server (MAIL_SINK_DELAY).

Waits follow the page's own state (the progress fragment's data-percent and
data-run-status, updated by htmx polling), never fixed sleeps."""

import re
from collections import Counter
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot

PASSWORD = "runner-password-123"

# Runs in the stack's process: a verified customer with a message and `n`
# clients at their own domain (so the outbox can be counted per test).
MAKE_CUSTOMER = """
import io
from accounts.models import User
from mailings import services
owner, _ = User.objects.get_or_create(email={email!r}, defaults={{"is_verified": True}})
owner.set_password({password!r})
owner.is_verified = True
owner.first_name = "Runner"
owner.save()
services.message_create(owner=owner, subject={subject!r}, body="Hello from the live control test.")
rows = "email,full name\\n" + "".join(f"r{{i:05d}}@{domain},Reader {{i}}\\n" for i in range({n}))
report = services.clients_import(owner=owner, file=io.BytesIO(rows.encode()))
assert report.created == {n}, report
"""


def make_customer(stack, name, n):
    email, domain, subject = f"{name}@mailsite.test", f"{name}.example", f"Live {name}"
    stack.manage(
        "shell",
        "-c",
        MAKE_CUSTOMER.format(email=email, password=PASSWORD, subject=subject, domain=domain, n=n),
    )
    return email, domain, subject


def received(stack, domain):
    """Messages the mail sink stored per recipient at `domain`."""
    counts = Counter()
    for path in stack.outbox():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        for address in message["To"].addresses:
            if address.domain == domain:
                counts[address.addr_spec] += 1
    return counts


def create_mailing_starting_now(page, subject):
    page.goto("/app/mailings/new/")
    expect(page.get_by_label("Start now")).to_be_checked()  # the default for a new mailing
    expect(page.get_by_test_id("form-time-zone")).to_contain_text("Times are in your time zone")
    page.get_by_label("Message").select_option(label=subject)
    page.get_by_label("Periodicity").select_option("once")
    page.get_by_label("All my clients").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("created")


def progress(page):
    return page.get_by_test_id("run-progress")


def wait_until_sending(page):
    """The run is under way: some recipients done, not all (a slow server)."""
    expect(progress(page)).to_have_attribute("data-run-status", "sending", timeout=60_000)
    expect(progress(page)).not_to_have_attribute("data-percent", "0", timeout=60_000)


def test_start_now_and_watch_the_progress_bar_reach_100_without_a_reload(page, stack):
    email, domain, subject = make_customer(stack, "watcher", 40)
    login(page, email, PASSWORD)
    create_mailing_starting_now(page, subject)
    page.evaluate("window.__sameDocument = true")

    expect(progress(page)).to_have_attribute("data-percent", "100", timeout=60_000)
    expect(page.get_by_test_id("progress-percent")).to_have_text(re.compile(r"100\s%"))
    expect(page.get_by_test_id("count-sent")).to_have_text("40")
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    # Polling stopped with the run: the fragment no longer asks for updates.
    expect(progress(page)).not_to_have_attribute("hx-get", re.compile(".*"))
    assert sum(received(stack, domain).values()) == 40


def test_pause_mid_run_then_resume_sends_every_recipient_exactly_once(page, stack):
    n = 1500
    email, domain, subject = make_customer(stack, "pauser", n)
    login(page, email, PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 800})
    create_mailing_starting_now(page, subject)
    wait_until_sending(page)
    expect(page.get_by_test_id("progress-rate")).to_contain_text("messages per minute")
    screenshot(page, "mailing-running")

    page.locator("[data-action=pause]").click()
    expect(page.locator(".alert-success")).to_contain_text("paused")
    expect(progress(page)).to_have_attribute("data-run-status", "paused")
    expect(page.get_by_test_id("paused-notice")).to_be_visible()
    # Chunks finish the message on the wire and give their other claims back.
    expect(progress(page)).to_have_attribute("data-on-the-wire", "0", timeout=30_000)
    sent_while_paused = int(page.get_by_test_id("count-sent").inner_text())
    assert 0 < sent_while_paused < n
    assert sum(received(stack, domain).values()) == sent_while_paused

    page.locator("[data-action=resume]").click()
    expect(page.locator(".alert-success")).to_contain_text("resumed")
    expect(progress(page)).to_have_attribute("data-percent", "100", timeout=120_000)
    expect(page.get_by_test_id("count-sent")).to_have_text(str(n))

    counts = received(stack, domain)
    assert len(counts) == n, "every recipient got their message"
    assert set(counts.values()) == {1}, "nobody got it twice"

    page.goto("/app/reports/")
    expect(page.get_by_test_id("chart-daily")).to_be_visible()
    expect(page.locator("canvas[data-chart=chart-daily-data]")).to_be_visible()
    page.get_by_text("Show as a table").first.click()
    screenshot(page, "reports-charts")


def test_cancel_mid_run_records_the_rest_as_not_sent(page, stack):
    n = 1500
    email, domain, subject = make_customer(stack, "canceller", n)
    login(page, email, PASSWORD)
    create_mailing_starting_now(page, subject)
    wait_until_sending(page)

    page.locator("[data-action=cancel]").click()
    expect(page.get_by_role("heading", name=re.compile("Cancel mailing"))).to_be_visible()
    page.locator("button[data-action=cancel]").click()
    expect(page.locator(".alert-success")).to_contain_text("cancelled")
    expect(progress(page)).to_have_attribute("data-run-status", "cancelled")
    expect(page.locator("main")).to_contain_text("Cancelled by the owner.")
    expect(progress(page)).to_have_attribute("data-on-the-wire", "0", timeout=30_000)
    expect(progress(page)).not_to_have_attribute("hx-get", re.compile(".*"))
    sent = int(page.get_by_test_id("count-sent").inner_text())
    skipped = int(page.get_by_test_id("count-skipped").inner_text())
    assert skipped > 0
    assert sent + skipped == n
    assert sum(received(stack, domain).values()) == sent
    expect(page.locator("[data-action]")).to_have_count(0)  # nothing left to control


@pytest.fixture(autouse=True)
def _wide(page):
    page.set_viewport_size({"width": 1280, "height": 800})
