"""A new customer's whole first visit in Russian, then in English: sign up, open the
verification link, add a client, write a message, create a mailing, read the reports.

On every page of the walk, no visible text of ours may still be English: the
visible texts are compared with the English msgids of the Russian catalogue,
so a string added later without a translation fails here too. The walk finds
its way by URLs and field names, never by English labels, so both languages
run the same steps. The Russian walk also takes the README's screenshots."""

import os
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path

import django
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_accounts import PASSWORD, open_outbox_message_to

BASE_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = BASE_DIR / "docs" / "screenshots"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailsite.settings")
django.setup()

from core.testing.catalogue import read_catalogue  # noqa: E402 - needs Django set up

# The visible text nodes of the page and the labels of its buttons and fields.
VISIBLE_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!element || element.closest("script, style, [hidden]")) continue;
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  for (const element of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
    for (const name of ["placeholder", "aria-label", "title"]) {
      const value = element.getAttribute(name);
      if (value) texts.push(value.replace(/\\s+/g, " ").trim());
    }
  }
  return texts;
}"""


def _english_patterns():
    """A regex per English msgid whose Russian differs: placeholders match anything."""
    patterns = []
    for message in read_catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if english in strings or not re.search(r"[A-Za-z]{2}", re.sub(r"%\(\w+\)\w", "", english)):
                continue
            text = re.sub(r"<[^>]+>", "", " ".join(english.split()))
            parts = re.split(r"%\(\w+\)[sd]", text)
            patterns.append((english, re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$", re.DOTALL)))
    return patterns


ENGLISH = _english_patterns()


def english_left(page) -> list[str]:
    """The visible texts of the page that are English msgids of the catalogue."""
    texts = page.evaluate(VISIBLE_TEXTS)
    full = " ".join(texts)
    found = set()
    for english, pattern in ENGLISH:
        plain = re.sub(r"<[^>]+>", "", " ".join(english.split()))
        if any(pattern.match(text) for text in texts) or (
            len(plain.split()) >= 3 and "%(" not in plain and plain in full
        ):
            found.add(english)
    return sorted(found)


@pytest.fixture(params=["ru", "en"])
def language(request):
    return request.param


@pytest.fixture
def walker(browser, stack, language):
    locale = {"ru": "ru-RU", "en": "en-US"}[language]
    accept = {"ru": "ru-RU,ru;q=0.9", "en": "en-US,en;q=0.9"}[language]
    context = browser.new_context(
        base_url=stack.url,
        locale=locale,
        timezone_id="Europe/Moscow",
        extra_http_headers={"Accept-Language": accept},
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def check(page, language, seen):
    expect(page.locator("html")).to_have_attribute("lang", language)
    seen.append(page.url)
    if language == "ru":
        left = english_left(page)
        assert not left, f"English left on {page.url}: {left}"


def test_first_visit_walk(walker, stack, language):
    page, seen = walker, []
    subject = {"ru": "Весенние новости", "en": "Spring news"}[language]
    email = f"walk-{language}-{uuid.uuid4().hex[:8]}@example.com"

    page.goto("/")
    expect(page).to_have_url(re.compile(rf"/{language}/$"))
    check(page, language, seen)
    if language == "ru":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "home-ru.png", full_page=True)

    # Sign up; the time zone comes from the browser (Europe/Moscow).
    page.locator("#nav a[href='/accounts/signup/']").click()
    check(page, language, seen)
    expect(page.locator("select[name=time_zone]")).to_have_value("Europe/Moscow")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/done/$"))
    check(page, language, seen)

    # The verification email speaks the language the visitor signed up in.
    open_outbox_message_to(page, email)
    greeting = {"ru": "Здравствуйте!", "en": "Hello,"}[language]
    expect(page.locator("pre")).to_contain_text(greeting)
    page.locator(f"pre a[href^='{stack.url}/accounts/verify/']").click()
    expect(page).to_have_url(re.compile(r"/app/$"))
    check(page, language, seen)
    expect(page.get_by_test_id("time-zone")).to_contain_text("Europe/Moscow")

    def open_new_form(section):
        """The section's list from the navbar, then its "new" form."""
        page.locator(f"#nav a[href='/app/{section}/']").click()
        check(page, language, seen)
        page.locator(f"main a[href='/app/{section}/new/']").first.click()
        check(page, language, seen)

    # A client.
    open_new_form("clients")
    page.fill("input[name=email]", "walk.client@example.org")
    page.fill("input[name=full_name]", {"ru": "Иван Петров", "en": "John Smith"}[language])
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("walk.client@example.org")
    check(page, language, seen)

    # A message.
    open_new_form("messages")
    page.fill("input[name=subject]", subject)
    page.fill("textarea[name=body]", "Hello from the walk.")
    page.locator("main form button[type=submit]").click()
    expect(page.frame_locator("#preview-text").locator("body")).to_contain_text("Hello from the walk.")
    check(page, language, seen)

    # A mailing that is due at once, so the worker sends it during the walk.
    open_new_form("mailings")
    expect(page.locator("select[name=time_zone]")).to_have_value("Europe/Moscow")
    page.locator("select[name=message]").select_option(label=subject)
    start = timezone.localtime(timezone.now(), timezone=timezone.get_fixed_timezone(180)) + timedelta(minutes=-1)
    page.fill("input[name=start_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=end_at]", (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("select[name=periodicity]").select_option("once")
    page.locator("input[name=all_clients]").check()
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/app/mailings/\d+/$"))
    expect(page.get_by_test_id("mailing-time-zone")).to_have_text("Europe/Moscow")
    deadline = time.monotonic() + 30
    while page.get_by_test_id("total-sent").inner_text() != "1" and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(page.get_by_test_id("total-sent")).to_have_text("1")
    check(page, language, seen)
    if language == "ru":
        page.screenshot(path=SCREENSHOTS / "mailing-ru.png", full_page=True)

    # Reports.
    page.locator("#nav a[href='/app/reports/']").click()
    expect(page.get_by_test_id("reports-table").locator("tbody")).to_contain_text(subject)  # charts have tables too
    check(page, language, seen)
    if language == "ru":
        page.screenshot(path=SCREENSHOTS / "reports-ru.png", full_page=True)

    assert len(seen) >= 14


def test_the_language_switch_sticks(walker, stack, language):
    page = walker
    other = "en" if language == "ru" else "ru"
    page.goto("/")
    page.get_by_test_id("language-switch").locator(f"button[value={other}]").click()
    expect(page).to_have_url(re.compile(rf"/{other}/$"))
    expect(page.locator("html")).to_have_attribute("lang", other)
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", other)
    page.goto("/")
    expect(page).to_have_url(re.compile(rf"/{other}/$"))


def test_another_site_cannot_switch_the_language(walker, stack, language):
    """The switch has no CSRF token (it is on pages stored for every visitor): the
    browser's Sec-Fetch-Site and Origin headers are what refuse another site's form."""
    page = walker
    other = "en" if language == "ru" else "ru"
    page.goto("about:blank")  # another origin than the site's
    page.set_content(
        f'<form method="post" action="{stack.url}/accounts/language/">'
        f'<input type="hidden" name="language" value="{other}"><input type="hidden" name="next" value="/">'
        "<button>go</button></form>"
    )
    with page.expect_response(f"{stack.url}/accounts/language/") as answer:
        page.locator("button").click()
    assert answer.value.status == 403
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_english_detector_finds_english_msgids_and_passes_russian(browser):
    page = browser.new_page()
    page.set_content(
        "<html><body><p>Your profile is saved.</p><p>Рассылки</p><button>Log out</button>"
        "<p>Mailing #12: Весна</p><input placeholder='Search clients by email or name'>"
        "<p hidden>Reports</p><p>Mailsite</p><p>7 clients</p></body></html>"
    )
    assert english_left(page) == [
        "%(counter)s clients",
        "Log out",
        "Mailing #%(pk)s",
        "Mailing #%(pk)s: %(subject)s",
        "Search clients by email or name",
        "Your profile is saved.",
    ]
    page.close()
