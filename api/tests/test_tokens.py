"""API tokens: made, named and revoked on the profile page, shown once, stored hashed;
Bearer authentication; a revoked token or a blocked user fails at once."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken
from api.tests.conftest import bearer

pytestmark = pytest.mark.django_db
CLIENTS = "/api/v1/clients/"


def test_profile_creates_a_token_shown_once_and_stores_only_its_hash(user_client, user):
    response = user_client.post(reverse("accounts:api_token_create"), {"name": "CRM sync"})
    assert response.status_code == 200
    secret = response.context["new_token"].secret
    assert secret.startswith("msk_")
    assert len(secret) > 40
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=user)
    assert token.name == "CRM sync"
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(f"msk_{token.prefix}_")
    assert not ApiToken.objects.filter(key_hash__contains=secret).exists()

    page = user_client.get(reverse("accounts:profile")).content.decode()
    assert "CRM sync" in page
    assert token.prefix in page
    assert secret not in page  # never shown again

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(CLIENTS).status_code == 200


def test_profile_token_needs_a_name(user_client, user):
    response = user_client.post(reverse("accounts:api_token_create"), {"name": ""})
    assert response.status_code == 400
    assert response.context["token_form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_profile_revokes_a_token_and_it_fails_at_once(user_client, user):
    issued = services.api_token_create(user=user, name="shop")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert api.get(CLIENTS).status_code == 200

    response = user_client.post(reverse("accounts:api_token_revoke", args=[issued.token.pk]))
    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None

    response = api.get(CLIENTS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_nobody_revokes_another_users_token(other_client, user):
    issued = services.api_token_create(user=user, name="shop")
    response = other_client.post(reverse("accounts:api_token_revoke", args=[issued.token.pk]))
    assert response.status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_a_blocked_users_token_fails_at_once(user):
    api = bearer(user)
    assert api.get(CLIENTS).status_code == 200
    services.user_block(user=user, reason="abuse")
    response = api.get(CLIENTS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_blocked"
    services.user_unblock(user=user)
    assert api.get(CLIENTS).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer msk_nope_nope",
        "Bearer " + "x" * 5000,
        "Bearer not-our-format",
        "bearer msk_00000000_" + "A" * 43,
    ],
)
def test_bad_bearer_headers_are_401(header):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get(CLIENTS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_non_ascii_bearer_is_401():
    response = APIClient().get(CLIENTS, HTTP_AUTHORIZATION="Bearer msk_é".encode().decode("latin-1"))
    assert response.status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(user, django_assert_num_queries):
    issued = services.api_token_create(user=user, name="crm")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    api.get(CLIENTS)
    issued.token.refresh_from_db()
    first = issued.token.last_used_at
    assert first is not None
    api.get(CLIENTS)
    issued.token.refresh_from_db()
    assert issued.token.last_used_at == first
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    api.get(CLIENTS)
    issued.token.refresh_from_db()
    assert issued.token.last_used_at > first


def test_session_authentication_works_with_csrf(user):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(user)
    assert api.get(CLIENTS).status_code == 200
    response = api.post(CLIENTS, {"email": "a@example.org"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_browsable_api_renders_for_a_session(user_client):
    response = user_client.get(CLIENTS, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"<html" in response.content


def test_unverified_user_is_refused(user):
    user.is_verified = False
    user.save()
    response = bearer(user).get(CLIENTS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_unverified"
