"""The mailings services, past the forms."""

import pytest
from django.core.exceptions import ValidationError

from mailings import selectors, services
from mailings.models import Client

pytestmark = pytest.mark.django_db


def test_the_client_service_refuses_a_duplicate_even_past_the_form(user):
    services.client_create(owner=user, email="ann@example.org")
    with pytest.raises(ValidationError, match="already have a client"):
        services.client_create(owner=user, email=" ANN@example.org")
    assert Client.objects.filter(owner=user).count() == 1


def test_a_duplicate_that_slips_past_the_check_is_still_a_validation_error(user, monkeypatch):
    services.client_create(owner=user, email="ann@example.org")
    # As if another request saved the same email between the check and the insert.
    monkeypatch.setattr(selectors, "client_email_taken", lambda **kwargs: False)
    with pytest.raises(ValidationError, match="already have a client"):
        services.client_create(owner=user, email="ann@example.org")
    assert Client.objects.filter(owner=user).count() == 1
