"""docs/api.md end to end against the live stack (web server, django-q2 worker,
mail sink): a token made on the profile page, then docs/api_example.py, which
uses only the documented API with plain requests. It needs those processes, so
it runs with the browser tests in .ci/run's third stage, not in `make test`."""

import json
import re
import subprocess
import sys

import requests

from tests.browser.conftest import BASE_DIR

EXAMPLE = BASE_DIR / "docs" / "api_example.py"


def _csrf(session, url):
    session.get(url, timeout=10)
    return session.cookies["csrftoken"]


def token_from_profile_page(stack, email, password):
    """What a customer does by hand: log in, name a token, copy it from the page."""
    web = requests.Session()
    login = stack.url + "/accounts/login/"
    token = _csrf(web, login)
    response = web.post(
        login,
        {"username": email, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": login},
        timeout=10,
    )
    assert response.ok
    profile = stack.url + "/accounts/profile/"
    response = web.post(
        stack.url + "/accounts/profile/tokens/",
        {"name": "CRM", "csrfmiddlewaretoken": _csrf(web, profile)},
        headers={"Referer": profile},
        timeout=10,
    )
    assert response.status_code == 200
    match = re.search(r'id="new-api-token">([^<]+)<', response.text)
    assert match, response.text[:2000]
    return match.group(1)


def test_the_docs_example_runs_end_to_end(stack):
    secret = token_from_profile_page(stack, "customer@mailsite.test", "demo-customer")
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env={"MAILSITE_URL": stack.url, "MAILSITE_TOKEN": secret, "MAILSITE_WAIT": "90", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "upsert: 3 created, 0 updated, 1 bad rows" in out
    assert "row 3: email invalid_email" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stats"]["sent"] == 3
    assert summary["stats"]["failed"] == 0
    assert summary["failed_attempts"] == 0
    # The mail sink got the three messages.
    received = [p.read_text(errors="replace") for p in stack.outbox()]
    for email in ("ann@example.org", "bob@example.org", "carol@example.org"):
        assert any(email in text and "Our spring sale" in text for text in received), (email, received[-1:])


def test_docs_page_and_schema_on_the_live_server(stack):
    assert requests.get(stack.url + "/api/v1/schema/", timeout=10).status_code == 200
    page = requests.get(stack.url + "/api/v1/docs/", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'<script src="([^"]+)"', page.text) + re.findall(r'rel="stylesheet" href="([^"]+)"', page.text)
    assert len(assets) == 5
    for src in assets:
        assert requests.get(stack.url + src, timeout=10).status_code == 200, src


def test_swagger_ui_starts_from_our_static_script(page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/api/v1/docs/")
    page.locator(".opblock-summary-path", has_text="/api/v1/clients/bulk/").first.wait_for()
    assert page.locator(".opblock").count() >= 30
    assert errors == []


STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'"
)


def test_swagger_ui_works_under_a_strict_content_security_policy(page):
    """The policy issue 11 puts on public pages (no inline script or style), added here
    to the docs page's response, so this holds whether or not that middleware is in."""

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/api/v1/docs/", with_csp)
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    response = page.goto("/api/v1/docs/")
    assert response.headers["content-security-policy"] == STRICT_CSP
    page.locator(".opblock-summary-path", has_text="/api/v1/clients/bulk/").first.wait_for()
    page.locator(".opblock-summary", has_text="/api/v1/clients/bulk/").first.click()
    page.get_by_role("button", name="Try it out").first.wait_for()
    assert violations == []
