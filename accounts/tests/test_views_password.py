"""Password change and the password reset, end to end through a real SMTP server."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import body_of, link_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Brand-new-passw0rd"


def test_password_reset_end_to_end(client, user, smtp_server):
    response = client.post(reverse("accounts:password_reset"), {"email": user.email.upper()})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == user.email
    assert email["Subject"] == "Reset your Mailsite password"
    assert user.email in body_of(email)

    response = client.get(link_in(email))
    assert response.status_code == 302  # Django moves the token into the session
    set_password_url = response.url
    response = client.get(set_password_url)
    assert response.context["validlink"]
    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    assert "Your new password is set." in client.get(response.url).content.decode()

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    # The link worked once.
    client.post(reverse("accounts:logout"))
    response = client.get(link_in(email), follow=True)
    assert not response.context["validlink"]


def test_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(client, smtp_server):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert smtp_server.messages == []


def test_reset_sends_nothing_to_a_blocked_user(client, smtp_server):
    blocked = UserFactory(is_blocked=True)
    client.post(reverse("accounts:password_reset"), {"email": blocked.email})
    assert smtp_server.messages == []


def test_a_completed_reset_verifies_the_address(client, smtp_server):
    """The reset link reached the mailbox, which is all verification proves."""
    user = UserFactory(is_verified=False)
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    set_password_url = client.get(link_in(smtp_server.messages[0])).url
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.is_verified
    assert client.post(reverse("accounts:login"), {"username": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_password_change_keeps_this_session_and_shows_errors_by_field(user_client, user):
    url = reverse("accounts:password_change")
    response = user_client.post(
        url, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    response = user_client.post(
        url, {"old_password": DEFAULT_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert user_client.get(reverse("mailings:dashboard")).status_code == 200
    assert SESSION_KEY in user_client.session


def test_password_pages_need_login(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_reset_emails_are_throttled_per_address(client, user, smtp_server):
    for _ in range(3):
        response = client.post(reverse("accounts:password_reset"), {"email": user.email})
        assert response.url == reverse("accounts:password_reset_done")
    assert len(smtp_server.messages) == 1
    # A verification re-send is a different purpose and is not held up by it.
    user.is_verified = False
    user.save()
    client.post(reverse("accounts:resend_verification"), {"email": user.email})
    assert len(smtp_server.messages) == 2
