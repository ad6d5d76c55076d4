"""Issue 11, "Ship-ready": production mode serves, no default secret, the
admin's account screens follow our rules, the outbox stays local, a strict
Content-Security-Policy, no calls to outside services."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import clear_url_caches, reverse

from accounts.tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_KEY = "a-long-random-production-secret-" + "z" * 40
ADDRESS_VARS = {"SITE_URL", "PORT", "HOST"}  # `make test` exports SITE_URL


def _reload_urls():
    import mailsite.urls

    clear_url_caches()
    importlib.reload(mailsite.urls)


def run_settings(code="print('started')", **env_vars):
    """A fresh process whose settings read `env_vars` (DJANGO_DEBUG unset unless given)."""
    # Nor the test process's pytest-xdist worker name, which gives each worker its own Redis database.
    unset = {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "PYTEST_XDIST_WORKER", *ADDRESS_VARS}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(DJANGO_SETTINGS_MODULE="mailsite.settings", **env_vars)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


# --- 3. Safe by default ---------------------------------------------------------------


def test_debug_is_off_unless_turned_on():
    result = run_settings("from django.conf import settings as s; print(s.DEBUG)", DJANGO_SECRET_KEY=PRODUCTION_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


@pytest.mark.parametrize(
    "key",
    [None, "short-key", settings.DEV_SECRET_KEY],
    ids=["missing", "short", "development key"],
)
def test_production_refuses_to_start_without_a_real_secret_key(key):
    result = run_settings(**({"DJANGO_SECRET_KEY": key} if key is not None else {}))
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert "DJANGO_SECRET_KEY" in last_line
    assert "started" not in result.stdout


def test_development_turns_debug_on_explicitly():
    assert os.environ["DJANGO_DEBUG"] == "true"  # pytest-env, pyproject.toml
    procfile = (BASE_DIR / "Procfile.dev").read_text()
    assert all("DJANGO_DEBUG=" in line for line in procfile.splitlines() if line.strip())
    result = run_settings("from django.conf import settings as s; print(s.DEBUG)", DJANGO_DEBUG="true")
    assert result.stdout.split() == ["True"]


# --- 4. make run follows its port -------------------------------------------------------


def test_site_url_follows_host_and_port():
    code = "from django.conf import settings as s; print(s.SITE_URL)"
    assert run_settings(code, DJANGO_DEBUG="true", PORT="8123").stdout.split() == ["http://127.0.0.1:8123"]
    assert run_settings(code, DJANGO_DEBUG="true", HOST="0.0.0.0", PORT="9000").stdout.split() == [
        "http://127.0.0.1:9000"
    ]
    assert run_settings(code, DJANGO_DEBUG="true", HOST="mail.test", PORT="80").stdout.split() == [
        "http://mail.test:80"
    ]


def test_make_run_announces_and_exports_the_port_it_listens_on():
    env = {k: v for k, v in os.environ.items() if k not in ADDRESS_VARS}
    out = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "http://127.0.0.1:8123/" in out
    assert "PORT=8123" in out
    printed = subprocess.run(
        ["make", "-s", "--eval", "print-site-url: ; @echo $$SITE_URL $$DJANGO_DEBUG", "print-site-url", "PORT=8123"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == ["http://127.0.0.1:8123", "true"]


# --- 1. Static files in production ------------------------------------------------------


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """`collectstatic` as production runs it: manifest storage, hashed and compressed files."""
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": PRODUCTION_KEY, "STATIC_ROOT": str(root)}
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def test_vendored_assets_are_complete():
    """Every sourceMappingURL of a vendored file points at a file that is there."""
    for path in (BASE_DIR / "static").rglob("*"):
        if path.suffix in {".js", ".css"}:
            for ref in re.findall(r"sourceMappingURL=([^\s*]+)", path.read_text(errors="replace")):
                assert (path.parent / ref).is_file(), f"{path} points at missing {ref}"


@pytest.mark.django_db
def test_production_serves_pages_and_hashed_compressed_static_files(collected_static):
    manifest = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": manifest}
    with override_settings(DEBUG=False, STATIC_ROOT=collected_static, STORAGES=storages, SECURE_SSL_REDIRECT=False):
        client = Client()
        page = client.get("/", follow=True)
        assert page.status_code == 200
        assert page.redirect_chain == [("/en/", 302)]
        css = re.search(r'href="(/static/css/mailsite\.[0-9a-f]{12}\.css)"', page.content.decode())
        assert css, "the page links the hashed CSS"
        response = client.get(css.group(1), HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "immutable" in response["Cache-Control"]
        assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 365 * 24 * 3600
        js = r'src="(/static/vendor/bootstrap/bootstrap\.bundle\.min\.[0-9a-f]{12}\.js)"'
        bootstrap = re.search(js, page.content.decode())
        assert bootstrap
        assert client.get(bootstrap.group(1)).status_code == 200


# --- 6. The Redis broker has its own connection ---------------------------------------------


def test_redis_broker_gets_a_connection_fit_for_blocking_reads():
    code = (
        "from django.conf import settings as s; from django_q.brokers import get_broker;"
        "kw = get_broker().connection.connection_pool.connection_kwargs;"
        "print(s.Q_CLUSTER.get('django_redis'), kw['socket_timeout'], kw['socket_connect_timeout'], kw['db'],"
        " s.CACHES['default']['OPTIONS']['SOCKET_TIMEOUT'])"
    )
    result = run_settings(code, DJANGO_DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/8")
    out = result.stdout.split()
    assert out[0] == "None"  # not the cache's connection
    assert float(out[1]) > 1  # BLPOP blocks for 1 s
    assert float(out[2]) > 0
    assert out[3] == "8"
    assert out[4] == "0.5"  # the cache keeps its short timeouts


# --- 10. Wagtail's account screens obey our rules -----------------------------------------------


@pytest.mark.django_db
def test_wagtail_password_reset_is_ours(client, smtp_server):
    blocked = UserFactory(is_blocked=True, is_staff=True)
    response = client.get("/admin/password_reset/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset")
    client.post("/admin/password_reset/", {"email": blocked.email}, follow=True)
    assert smtp_server.messages == []
    login = client.get(reverse("wagtailadmin_login")).content.decode()
    assert f'href="{reverse("accounts:password_reset")}"' in login


@pytest.mark.django_db
def test_wagtail_account_page_does_not_change_email_or_password(client, manager):
    client.force_login(manager)
    page = client.get(reverse("wagtailadmin_account"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name_email-email"' not in html
    assert 'name="password-new_password1"' not in html
    assert reverse("accounts:email_change") in html
    assert reverse("accounts:password_change") in html
    old_email = manager.email
    client.post(
        reverse("wagtailadmin_account"),
        {"name_email-first_name": "M", "name_email-last_name": "N", "name_email-email": "taken@example.org"},
    )
    manager.refresh_from_db()
    assert manager.email == old_email


# --- 12. The outbox stays on this machine -------------------------------------------------------


@pytest.mark.django_db
def test_outbox_answers_only_loopback_requests(settings, tmp_path):
    settings.MAIL_SINK_DIR = tmp_path
    (tmp_path / "20260101T000000000000-abc.eml").write_bytes(b"To: a@example.org\r\nSubject: Reset\r\n\r\nlink\r\n")
    try:
        with override_settings(DEBUG=True):
            _reload_urls()
            assert Client(REMOTE_ADDR="127.0.0.1").get("/outbox/").status_code == 200
            assert Client(REMOTE_ADDR="::1").get("/outbox/").status_code == 200
            remote = Client(REMOTE_ADDR="203.0.113.7")
            assert remote.get("/outbox/").status_code == 404
            assert remote.get("/outbox/20260101T000000000000-abc.eml/").status_code == 404
            assert Client(REMOTE_ADDR="").get("/outbox/").status_code == 404
    finally:
        _reload_urls()


# --- 13. Content-Security-Policy ----------------------------------------------------------------


@pytest.mark.django_db
def test_strict_csp_on_public_and_customer_pages_relaxed_only_in_the_admin(client, user, superuser):
    for url in ["/", "/accounts/login/", "/accounts/signup/"]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
    client.force_login(user)
    for url in [reverse("mailings:dashboard"), reverse("mailings:mailing_create")]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "unsafe-inline" not in policy
        assert "object-src 'none'" in policy
    client.force_login(superuser)
    assert "script-src 'self' 'unsafe-inline'" in client.get("/admin/")["Content-Security-Policy"]


# Emails are not pages: mail programs need inline styles, and no browser applies
# our CSP to them (the message preview serves them under a policy of their own).
NOT_PAGES = ("templates/mailings/email/", "templates/mailings/preview_text.html")


def test_our_templates_have_no_inline_script_handler_or_style():
    offenders = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        if str(path.relative_to(BASE_DIR)).startswith(NOT_PAGES):
            continue
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"javascript:", r"\sstyle\s*="):
            offenders += [f"{path.relative_to(BASE_DIR)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []


# --- 14. No calls to outside services; a favicon ------------------------------------------------


@pytest.mark.django_db
def test_admin_calls_no_outside_service(client, superuser):
    client.force_login(superuser)
    for url in ["/admin/", reverse("wagtailadmin_account"), reverse("wagtailusers_users:index")]:
        html = client.get(url).content.decode().lower()
        assert "gravatar" not in html, url
        assert "releases.wagtail.org" not in html, url
        assert "data-w-upgrade" not in html, url


@pytest.mark.django_db
def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/favicon")
    assert (BASE_DIR / "static" / "favicon.ico").is_file()
    assert 'rel="icon"' in client.get("/", follow=True).content.decode()
