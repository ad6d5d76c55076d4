"""A customer at work: one client by form, three by CSV, a message and a mailing, all seen in the lists."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import login


def test_customer_creates_clients_message_and_mailing(page):
    login(page, "customer@mailsite.test", "demo-customer")
    expect(page).to_have_url(re.compile(r"/app/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # A client by the form.
    page.get_by_role("link", name="Clients", exact=True).first.click()
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Email").fill("Browser.Form@Example.org")
    page.get_by_label("Full name").fill("Form Person")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("added")
    expect(page.locator("table")).to_contain_text("browser.form@example.org")

    # Three clients by CSV (semicolons, a BOM, one bad row reported).
    page.get_by_role("link", name="Import CSV").click()
    csv = (
        "\ufeffemail;full name;comment\n"
        "csv.one@example.org;CSV One;first\n"
        "csv.two@example.org;CSV Two;\n"
        "not-an-email;Broken;\n"
        "csv.three@example.org;CSV Three;last\n"
    )
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "clients.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-created")).to_have_text("3")
    expect(page.get_by_test_id("import-bad")).to_have_text("1")
    expect(page.locator("main")).to_contain_text("not a valid email address")

    page.get_by_role("link", name="Go to your clients").click()
    page.get_by_label("Search clients").fill("csv.")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    for email in ("csv.one@example.org", "csv.two@example.org", "csv.three@example.org"):
        expect(page.locator("tbody")).to_contain_text(email)

    # A message.
    page.get_by_role("link", name="Messages", exact=True).first.click()
    page.get_by_role("link", name="New message").click()
    page.get_by_label("Subject").fill("Browser news")
    page.get_by_label("Body").fill("Hello from the browser test.\nSecond line.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Message preview")).to_be_visible()
    expect(page.frame_locator("#preview-text").locator("body")).to_contain_text("Second line.")
    page.get_by_role("link", name="Back to messages").click()
    expect(page.locator("tbody")).to_contain_text("Browser news")

    # A mailing to the four new clients, picked with the search box.
    page.get_by_role("link", name="Mailings", exact=True).first.click()
    page.get_by_role("link", name="New mailing").click()
    page.get_by_label("Message").select_option(label="Browser news")
    start = timezone.localtime() + timedelta(days=2)
    page.get_by_label("Start time").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("End time").fill((start + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Periodicity").select_option("weekly")
    page.get_by_label("Search clients").fill("csv.")
    expect(page.locator(".client-choice:visible")).to_have_count(3)
    for choice in page.locator(".client-choice:visible input").all():
        choice.check()
    page.get_by_label("Search clients").fill("browser.form")
    page.locator(".client-choice:visible input").check()
    expect(page.locator("#client-selected-count")).to_have_text("4")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".alert-success")).to_contain_text("created")
    expect(page.locator("main")).to_contain_text("Browser news")
    expect(page.locator("main dl").first).to_contain_text("Weekly")
    expect(page.locator("main dl").first).to_contain_text("4")

    page.get_by_role("link", name="Mailings", exact=True).first.click()
    expect(page.locator("tbody")).to_contain_text("Browser news")
    expect(page.locator("tbody")).to_contain_text("Spring sale")  # the demo's own mailings are there too

    page.get_by_role("link", name="Reports", exact=True).first.click()
    reports = page.get_by_test_id("reports-table").locator("tbody")  # the charts' tables are there too
    expect(reports).to_contain_text("Browser news")
    expect(reports).to_contain_text("Our autumn newsletter")


def test_the_client_picker_searches_the_server_when_not_every_client_is_listed(page):
    login(page, "customer@mailsite.test", "demo-customer")
    page.goto("/app/clients/import/")
    csv = "email,full name\n" + "".join(f"bulk-{i:04d}@example.org,Bulk {i}\n" for i in range(600))
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "bulk.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-created")).to_have_text("600")

    page.goto("/app/mailings/new/")
    expect(page.locator("#client-picker-note")).to_contain_text("Showing 500 of your")
    expect(page.get_by_label("bulk-0599@example.org (Bulk 599)")).to_have_count(0)
    page.get_by_label("Message").select_option(label="Spring sale: 20% off")  # a demo message
    start = timezone.localtime() + timedelta(days=3)
    page.get_by_label("Start time").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("End time").fill((start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Search clients").fill("bulk-0599")
    found = page.get_by_label("bulk-0599@example.org (Bulk 599)")
    expect(found).to_be_visible()
    found.check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("created")
    expect(page.locator("main dl").first).to_contain_text("Recipients")
    expect(page.locator("main dl").first.locator("dd").nth(2)).to_have_text("1")
