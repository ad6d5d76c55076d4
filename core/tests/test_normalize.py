"""One normalize_email for accounts, clients and imports."""

import pytest

from accounts.models import User
from core.normalize import normalize_email
from mailings.models import Client


def test_normalize_email_trims_and_lowercases():
    assert normalize_email("  Ann.Lee@Example.ORG \n") == "ann.lee@example.org"
    assert normalize_email("") == ""
    assert normalize_email(None) == ""


@pytest.mark.django_db
def test_users_and_clients_store_the_normalized_address(user):
    created = User.objects.create_user(" New.Person@Example.ORG ", password="x" * 12)
    assert created.email == "new.person@example.org"
    client = Client.objects.create(owner=user, email=" Client@Example.ORG")
    assert client.email == "client@example.org"
