"""Managers: the users list, block and unblock with a reason, as in the admin."""

import pytest
from wagtail.models import ModelLogEntry

from accounts.tests.factories import UserFactory
from api.tests.conftest import bearer

pytestmark = pytest.mark.django_db
URL = "/api/v1/users/"


def test_managers_list_users_and_customers_cannot(manager_api, api, user):
    assert user.pk in [u["id"] for u in manager_api.get(URL).json()["results"]]
    response = api.get(URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert api.get(f"{URL}{user.pk}/").status_code == 403


def test_block_needs_a_reason_and_stops_the_users_tokens(manager_api, user):
    victim_api = bearer(user)
    response = manager_api.post(f"{URL}{user.pk}/block/", {}, format="json")
    assert response.status_code == 400
    response = manager_api.post(f"{URL}{user.pk}/block/", {"reason": "Abuse"}, format="json")
    assert response.status_code == 200
    assert (response.json()["is_blocked"], response.json()["blocked_reason"]) == (True, "Abuse")
    assert ModelLogEntry.objects.filter(action="mailsite.user.block", object_id=str(user.pk)).exists()
    assert victim_api.get("/api/v1/clients/").status_code == 401
    assert manager_api.post(f"{URL}{user.pk}/block/", {"reason": "x"}, format="json").status_code == 409
    assert manager_api.post(f"{URL}{user.pk}/unblock/").status_code == 200
    assert victim_api.get("/api/v1/clients/").status_code == 200
    assert manager_api.post(f"{URL}{user.pk}/unblock/").json()["error"]["code"] == "not_blocked"


def test_nobody_blocks_themselves_and_managers_never_block_superusers(manager_api, manager):
    boss = UserFactory(is_superuser=True, is_staff=True)
    assert manager_api.post(f"{URL}{manager.pk}/block/", {"reason": "x"}, format="json").status_code == 403
    assert manager_api.post(f"{URL}{boss.pk}/block/", {"reason": "x"}, format="json").status_code == 403
    boss.refresh_from_db()
    assert not boss.is_blocked


def test_customers_cannot_block(api, other_user):
    assert api.post(f"{URL}{other_user.pk}/block/", {"reason": "x"}, format="json").status_code == 403
    other_user.refresh_from_db()
    assert not other_user.is_blocked
