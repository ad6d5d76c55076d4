"""Login and logout by email, blocking, and the django-axes lockout."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_block, user_unblock
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
BLOCKED = "Your account is blocked. Please contact support."
INVALID = "Please enter a correct email and password."


def log_in(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"username": email, "password": password}, **extra)


def test_login_by_email_in_any_case_lands_on_the_dashboard_and_logout_ends_it(client, user):
    response = log_in(client, user.email.upper())
    assert response.status_code == 302
    assert response.url == reverse("mailings:dashboard")
    assert client.session[SESSION_KEY] == str(user.pk)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_login_follows_next(client, user):
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/profile/",
        {"username": user.email, "password": DEFAULT_PASSWORD, "next": "/accounts/profile/"},
    )
    assert response.url == "/accounts/profile/"


def test_wrong_password_and_unknown_address_get_the_same_answer(client, user):
    wrong = log_in(client, user.email, "wrong-password")
    unknown = log_in(client, "nobody@example.com")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == [INVALID + " Both fields are case-sensitive."]
    assert SESSION_KEY not in client.session


def test_blocked_user_with_the_right_password_is_told_only_that_they_are_blocked(client, user):
    user_block(user=user, reason="spam")
    response = log_in(client, user.email)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [BLOCKED]
    assert "spam" not in response.content.decode()
    assert SESSION_KEY not in client.session


def test_blocked_user_with_a_wrong_password_learns_nothing(client, user):
    user_block(user=user, reason="spam")
    response = log_in(client, user.email, "wrong-password")
    assert BLOCKED not in response.content.decode()
    assert INVALID in response.content.decode()


def test_blocking_cuts_an_open_session_at_the_next_request_for_good(user_client, user):
    session_key = user_client.session.session_key
    assert user_client.get(reverse("mailings:dashboard")).status_code == 200

    user_block(user=user, reason="abuse")
    response = user_client.get(reverse("mailings:dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not Session.objects.filter(session_key=session_key).exists()

    # Unblocking does not revive the old session: the user logs in again.
    user_unblock(user=user)
    assert user_client.get(reverse("mailings:dashboard")).status_code == 302
    assert log_in(user_client, user.email).status_code == 302
    assert user_client.get(reverse("mailings:dashboard")).status_code == 200


def test_blocked_user_is_refused_by_the_wagtail_admin_login_too(client, manager):
    user_block(user=manager, reason="left the company")
    response = client.post(reverse("wagtailadmin_login"), {"username": manager.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_other_users_sessions_are_untouched_by_a_block(user_client, other_client, user):
    user_block(user=user)
    assert other_client.get(reverse("mailings:dashboard")).status_code == 200


def test_lockout_after_the_failure_limit_and_release_after_the_cool_off(client, user, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert log_in(client, user.email, "wrong-password").status_code == 200
    response = log_in(client, user.email, "wrong-password")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()

    # Locked: even the right password is refused, and nothing tells it was right.
    response = log_in(client, user.email)
    assert response.status_code == 429
    assert SESSION_KEY not in client.session

    # The lock is per email and IP: the same address from elsewhere, or another address here, still works.
    assert log_in(client, user.email, REMOTE_ADDR="10.0.0.7").status_code == 302
    client.post(reverse("accounts:logout"))
    other = UserFactory()
    assert log_in(client, other.email).status_code == 302
    client.post(reverse("accounts:logout"))

    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    almost = timezone.now() + cool_off - timedelta(minutes=1)
    with time_machine.travel(almost, tick=False):
        assert log_in(client, user.email).status_code == 429
    # Every refused try while locked restarts the lock time (django-axes keeps the last attempt's time).
    with time_machine.travel(almost + cool_off + timedelta(minutes=1), tick=False):
        response = log_in(client, user.email)
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(user.pk)


def test_a_locked_out_blocked_user_is_not_told_they_are_blocked(client, user, settings):
    user_block(user=user)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, user.email, "wrong-password")
    response = log_in(client, user.email)
    assert response.status_code == 429
    assert BLOCKED not in response.content.decode()


def test_login_page_links_to_signup_reset_and_new_link(client):
    page = client.get(reverse("accounts:login")).content.decode()
    for name in ("accounts:signup", "accounts:password_reset", "accounts:resend_verification"):
        assert reverse(name) in page


def test_the_lock_is_per_address_whatever_its_case(client, user, settings):
    variants = [user.email.upper(), user.email.title(), f"  {user.email} ", user.email]
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, variants[i % len(variants)], "wrong-password")
    assert log_in(client, user.email.upper()).status_code == 429
    assert log_in(client, user.email).status_code == 429
