"""The ground every other feature stands on: settings, the user model, mail over
real SMTP. (The mail sink, the outbox and load_demo are tested in core/tests.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from guardian.shortcuts import assign_perm, get_objects_for_user

from accounts.models import User
from mailings.tests.factories import ClientFactory
from tests.test_ship_ready import run_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def test_check_deploy_prints_no_warning_in_production_posture(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-" + "y" * 20,
        "DJANGO_ALLOWED_HOSTS": "mailsite.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _settings_printed(code, **env_vars):
    """Run `code` in a fresh process whose settings are read from `env_vars`; its printed words."""
    result = run_settings(code, **env_vars)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_production_posture_settings():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0,"
        " s.STORAGES['staticfiles']['BACKEND'])"
    )
    out = _settings_printed(code, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="k" * 64)
    assert out == ["True", "True", "True", "True", "whitenoise.storage.CompressedManifestStaticFilesStorage"]


def test_redis_url_switches_cache_and_broker():
    code = (
        "from django.conf import settings as s;"
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['OPTIONS']['IGNORE_EXCEPTIONS'],"
        " s.Q_CLUSTER['redis'].split('?')[0], s.Q_CLUSTER.get('orm'))"
    )
    out = _settings_printed(code, DJANGO_DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/9")
    assert out == ["django_redis.cache.RedisCache", "True", "redis://127.0.0.1:6379/9", "None"]


@pytest.mark.django_db
def test_user_is_created_by_email_without_username():
    user = User.objects.create_user(email="Someone@Example.COM", password="pw-123456789")
    assert user.email == "someone@example.com"
    assert not hasattr(user, "username") or user.username is None
    assert user.check_password("pw-123456789")
    admin = User.objects.create_superuser(email="root@example.com", password="pw-123456789")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.is_verified
    assert User.objects.get_by_natural_key("ROOT@example.com") == admin


@pytest.mark.django_db
def test_guardian_works_with_the_custom_user_and_has_no_anonymous_user(user, other_user):
    client = ClientFactory(owner=user)
    assert user.has_perm("mailings.view_client", client)
    assert not other_user.has_perm("mailings.view_client", client)
    assign_perm("mailings.view_client", other_user, client)
    assert list(get_objects_for_user(other_user, "mailings.view_client")) == [client]
    assert not User.objects.filter(email__icontains="anonymous").exists()


@pytest.mark.django_db
def test_wagtail_user_management_creates_edits_and_searches(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "email": "new.person@example.com",
            "first_name": "New",
            "last_name": "Person",
            "password1": "a-Strong-passw0rd!",
            "password2": "a-Strong-passw0rd!",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="new.person@example.com")
    response = client.post(
        reverse("wagtailusers_users:edit", args=[created.pk]),
        {"email": "new.person@example.com", "first_name": "Renamed", "last_name": "Person", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created.refresh_from_db()
    assert created.first_name == "Renamed"
    response = client.get(reverse("wagtailusers_users:index"), {"q": "renamed"})
    assert response.status_code == 200
    assert "new.person@example.com" in response.content.decode()


def test_email_goes_through_django_smtp_backend_to_a_real_server(smtp_server):
    sent = mail.send_mail("Grüße", "Body with ünicode", "from@mailsite.test", ["to@example.org"])
    assert sent == 1
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["Subject"] == "Grüße"
    assert received["To"] == "to@example.org"
    assert "ünicode" in received.get_content()


@pytest.mark.django_db
def test_home_page_answers_and_admin_shows_login(client):
    home = client.get("/", follow=True)
    assert home.status_code == 200
    assert home.redirect_chain == [("/en/", 302)]
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    assert "login" in response.redirect_chain[-1][0]
