import pytest
from rest_framework.test import APIClient

from accounts import services


def bearer(user, name="test"):
    """A fresh API client sending a new token of `user`."""
    client = APIClient()
    secret = services.api_token_create(user=user, name=name).secret
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api(user):
    """Customer A's client, with a Bearer token."""
    return bearer(user)


@pytest.fixture
def other_api(other_user):
    """Customer B's client."""
    return bearer(other_user)


@pytest.fixture
def manager_api(manager):
    return bearer(manager)


@pytest.fixture
def anon_api():
    return APIClient()
