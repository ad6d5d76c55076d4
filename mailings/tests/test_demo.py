"""The mailings demo data that `load_demo` creates."""

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.tests.factories import UserFactory
from mailings import selectors

pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_without_duplicates(db):
    call_command("load_demo", stdout=None)
    customer = User.objects.get(email="customer@mailsite.test")
    counts = (
        selectors.owned_clients(customer).count(),
        selectors.owned_messages(customer).count(),
        selectors.owned_mailings(customer).count(),
    )
    call_command("load_demo", stdout=None)
    assert counts == (11, 3, 3)
    assert (
        selectors.owned_clients(customer).count(),
        selectors.owned_messages(customer).count(),
        selectors.owned_mailings(customer).count(),
    ) == counts
    assert selectors.report_totals(customer)["failed"] == 1
    assert not selectors.owned_clients(UserFactory()).exists()
