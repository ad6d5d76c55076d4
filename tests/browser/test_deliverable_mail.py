"""Mail as recipients get it: a Markdown message with a placeholder, its live
preview, a test to myself in the outbox, and a client who unsubscribes from
their copy and shows up as unsubscribed."""

import re
import uuid
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_accounts import open_outbox_message_to


def test_markdown_message_preview_test_send_and_unsubscribe(page, stack):
    login(page, "customer@mailsite.test", "demo-customer")
    expect(page).to_have_url(re.compile(r"/app/$"))
    tag = uuid.uuid4().hex[:6]
    client_email = f"una.{tag}@example.org"

    # A client to send to.
    page.goto("/app/clients/new/")
    page.get_by_label("Email").fill(client_email)
    page.get_by_label("Full name").fill("Una Reader")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("added")

    # A Markdown message with a placeholder, previewed live for that client.
    page.goto("/app/messages/new/")
    page.get_by_label("Subject").fill(f"Autumn {tag}")
    page.get_by_label("Format").select_option("markdown")
    page.get_by_label("Body").fill('# Hello, {{ first_name|default:"friend" }}!\n\nOur **autumn** range is in.')
    page.get_by_label("Preview for").select_option(label=f"Una Reader <{client_email}>")
    html = page.frame_locator("#preview-html")
    expect(html.locator("h1")).to_have_text("Hello, Una!")
    expect(html.locator("strong")).to_have_text("autumn")
    expect(page.frame_locator("#preview-text").locator("body")).to_contain_text("# Hello, Una!")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Message preview")).to_be_visible()

    # A test to myself: through the worker into the outbox, rendered for the sample client.
    page.get_by_role("button", name=re.compile("Send a test to myself")).click()
    expect(page.locator(".alert-success")).to_contain_text("customer@mailsite.test")
    open_outbox_message_to(page, f"[Test] Autumn {tag}")
    expect(page.locator("pre")).to_contain_text("# Hello, ")

    # A mailing that starts now sends the client their copy.
    page.goto("/app/mailings/new/")
    page.get_by_label("Message").select_option(label=f"Autumn {tag}")
    start = timezone.localtime() - timedelta(minutes=1)
    page.get_by_label("Start time").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("End time").fill((start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Search clients").fill(client_email)
    page.locator(".client-choice:visible input").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("created")

    # The client opens their copy and unsubscribes: one button, no login.
    open_outbox_message_to(page, client_email)
    expect(page.locator("pre")).to_contain_text("# Hello, Una!")
    page.locator(f"pre a[href^='{stack.url}/unsubscribe/']").click()
    expect(page.locator("#unsubscribe-state")).to_have_attribute("data-state", "subscribed")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#unsubscribe-state")).to_have_attribute("data-state", "unsubscribed")

    # The customer sees the client marked unsubscribed.
    page.goto(f"/app/clients/?q={client_email}")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("unsubscribed")).to_be_visible()
