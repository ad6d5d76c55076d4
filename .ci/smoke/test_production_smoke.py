"""Production smoke stage (issue 11, item 2), run by .ci/run after the
PostgreSQL/Redis pass: DEBUG off, a random secret key, PostgreSQL, Redis,
collectstatic, gunicorn with 2 workers, a django-q2 cluster, and Debian's
Postfix on 127.0.0.1 delivering every address to one Maildir.

Everything goes through real HTTP as a TLS-terminating proxy would send it
(`X-Forwarded-Proto: https`). .ci/run sets up Postfix and passes
SMOKE_DATABASE_URL, SMOKE_REDIS_URL and SMOKE_MAILDIR; this file starts and
stops gunicorn and the cluster itself.
"""

import email
import email.policy
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from core.testing.smtp import free_port

pytestmark = pytest.mark.smoke

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "Smoke-test-passw0rd!"
MAIL_WAIT_SECONDS = 60


def required(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the smoke stage through .ci/run")
    return value


@pytest.fixture(scope="module")
def maildir():
    return Path(required("SMOKE_MAILDIR"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """gunicorn (2 workers) and qcluster in production mode; stopped afterwards."""
    root = tmp_path_factory.mktemp("smoke")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_TRUST_X_FORWARDED_PROTO": "true",
        "DATABASE_URL": required("SMOKE_DATABASE_URL"),
        "REDIS_URL": required("SMOKE_REDIS_URL"),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": "25",
        "DEFAULT_FROM_EMAIL": "Mailsite <noreply@mailsite.localhost>",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "STATIC_ROOT": str(root / "static"),
        "MEDIA_ROOT": str(root / "media"),
        "Q_CLUSTER_NAME": f"smoke-{uuid.uuid4().hex[:6]}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("EMAIL_URL", None)
    for args in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)
    commands = {
        "gunicorn": [
            str(Path(sys.executable).parent / "gunicorn"),
            "mailsite.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--access-logfile=-",
        ],
        "qcluster": [sys.executable, "manage.py", "qcluster"],
    }
    procs = {}
    for name, cmd in commands.items():
        with (root / f"{name}.log").open("wb") as log:
            procs[name] = subprocess.Popen(
                cmd, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/", timeout=10, headers={"X-Forwarded-Proto": "https"})
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, (root / "gunicorn.log").read_text()
                time.sleep(0.3)
        yield {"url": url, "port": port, "logs": root}
    finally:
        for proc in procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


class Browser:
    """requests behind a TLS-terminating proxy: https as far as Django knows.

    Django marks its cookies Secure, which requests would never send over
    http, so this keeps them itself and follows redirects itself."""

    def __init__(self, site):
        self.url = site["url"]
        self.cookies: dict[str, str] = {}
        self.headers = {"X-Forwarded-Proto": "https", "Origin": f"https://127.0.0.1:{site['port']}"}

    def request(self, method, path, **kwargs):
        url = self.url + path
        headers = {**self.headers, **kwargs.pop("headers", {})}
        for _hop in range(10):
            response = requests.request(
                method, url, cookies=self.cookies, headers=headers, allow_redirects=False, timeout=30, **kwargs
            )
            self.cookies.update({c.name: c.value for c in response.cookies})
            if response.status_code not in {301, 302, 303}:
                return response
            method, url, kwargs = "GET", requests.compat.urljoin(url, response.headers["Location"]), {}
        raise AssertionError(f"too many redirects from {path}")

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def form(self, path):
        page = self.get(path)
        assert page.status_code == 200, page.text[:2000]
        return page.text, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def post(self, path, data):
        _html, token = self.form(path)
        return self.request("POST", path, data={"csrfmiddlewaretoken": token, **data})


def wait_for_mail(maildir, to, subject_has="", timeout=MAIL_WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in (maildir / "new").glob("*"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to in str(message["To"]) and subject_has in str(message["Subject"]):
                return message
        time.sleep(0.3)
    pytest.fail(f"no mail to {to} with {subject_has!r} in {maildir} after {timeout}s")


def test_home_page_and_hashed_static_files(site):
    browser = Browser(site)
    home = browser.get("/")
    assert home.status_code == 200
    assert home.headers["Strict-Transport-Security"]
    assert "script-src 'self'" in home.headers["Content-Security-Policy"]
    css = re.search(r'href="(/static/css/mailsite\.[0-9a-f]{12}\.css)"', home.text)
    assert css, "the home page links the hashed stylesheet"
    response = browser.get(css.group(1), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1)) >= 365 * 24 * 3600
    assert response.headers.get("Content-Encoding") == "gzip"
    favicon = browser.get("/favicon.ico")
    assert favicon.status_code == 200
    assert favicon.headers["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}


def test_sign_up_verify_and_send_a_mailing_through_postfix(site, maildir):
    browser = Browser(site)
    me = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
    response = browser.post("/accounts/signup/", {"email": me, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200, response.text[:3000]
    assert response.url.endswith("/accounts/signup/done/"), response.text[:2000]

    verification = wait_for_mail(maildir, me)
    link = re.search(
        r"https://127\.0\.0\.1:\d+(/accounts/verify/\S+/)", verification.get_body(("plain",)).get_content()
    )
    assert link, verification.as_string()[:2000]
    landed = browser.get(link.group(1))
    assert landed.status_code == 200
    assert landed.url.endswith("/app/"), landed.url
    assert me in landed.text

    client_email = f"client-{uuid.uuid4().hex[:8]}@example.org"
    response = browser.post("/app/clients/new/", {"email": client_email, "full_name": "Smoke Client", "comment": ""})
    assert response.status_code == 200
    subject = f"Smoke news {uuid.uuid4().hex[:6]}"
    response = browser.post("/app/messages/new/", {"subject": subject, "body": "Hello from the smoke stage."})
    assert response.status_code == 200

    form, token = browser.form("/app/mailings/new/")
    message_pk = re.search(r'<option value="(\d+)"[^>]*>' + re.escape(subject), form).group(1)
    client_pk = re.search(r'name="clients" value="(\d+)"', form).group(1)
    start = datetime.now(ZoneInfo(os.environ.get("TIME_ZONE", "Europe/London")))
    response = browser.request(
        "POST",
        "/app/mailings/new/",
        data={
            "csrfmiddlewaretoken": token,
            "message": message_pk,
            "clients": client_pk,
            "start_at": f"{start:%Y-%m-%dT%H:%M}",
            "end_at": f"{start + timedelta(days=1):%Y-%m-%dT%H:%M}",
            "periodicity": "once",
        },
    )
    assert response.status_code == 200
    assert "/app/mailings/" in response.url, response.url
    assert "/new/" not in response.url, response.text[:3000]

    delivered = wait_for_mail(maildir, "client-", subject_has=subject)
    assert "Hello from the smoke stage." in delivered.get_body(("plain",)).get_content()
