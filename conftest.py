"""Project-wide pytest fixtures: users for every role, logged-in test clients,
and a real SMTP server."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation
from django_q.conf import Conf

from accounts.tests.factories import UserFactory
from core.testing.smtp import SMTPTestServer


@pytest.fixture(autouse=True)
def _tasks_run_in_process(monkeypatch):
    """django-q2 runs queued tasks at once, in the test's process.

    Tests that need a real cluster start `qcluster` processes themselves."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():
    """Each test starts and ends in the default language: a request with
    Accept-Language: ru leaves Russian active in the thread, as a worker never has it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MAIL_SINK_DIR = tmp_path / "mail"


@pytest.fixture
def smtp_server(settings):
    """A real aiosmtpd server; Django's email settings point at it."""
    with SMTPTestServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        yield server


@pytest.fixture
def user(db):
    """A verified customer."""
    return UserFactory()


@pytest.fixture
def other_user(db):
    """A second verified customer, for the 'not yours' side of every test."""
    return UserFactory()


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)


def _in_group(name):
    user = UserFactory()
    group, _ = Group.objects.get_or_create(name=name)
    user.groups.add(group)
    return user


@pytest.fixture
def manager(db):
    return _in_group("Managers")


@pytest.fixture
def editor(db):
    return _in_group("Content editors")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def other_client(db, other_user):
    from django.test import Client

    c = Client()
    c.force_login(other_user)
    return c


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The database cache table (the default cache without REDIS_URL) exists in the test database too."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2's many rounds cost ~0.3 s per login or new user; tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
