"""Bulk upsert: up to 10,000 clients a request, written as the CSV import writes
them (guardian permissions by INSERT ... SELECT), with a per-row error report."""

import pytest
from guardian.shortcuts import get_perms

from api.tests.conftest import bearer
from mailings import selectors
from mailings.models import Client
from mailings.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/clients/bulk/"


def test_creates_updates_and_reports_bad_rows(api, user):
    existing = ClientFactory(owner=user, email="old@example.org", full_name="Old", comment="keep")
    rows = [
        {"email": "new1@example.org", "full_name": "New One"},
        {"email": "OLD@example.org", "full_name": "Renamed"},
        {"email": "not-an-email"},
        {"email": "new1@example.org"},
        "just a string",
        {"email": 42},
        {"email": "nul@example.org", "comment": "a\x00b"},
        {"email": "long@example.org", "full_name": "x" * 256},
        {"full_name": "no email"},
        {"email": "new2@example.org", "comment": "hi"},
    ]
    response = api.post(URL, {"clients": rows}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["skipped"], body["error_count"]) == (2, 1, 0, 7)
    errors = {e["index"]: (e["field"], e["code"]) for e in body["errors"]}
    assert errors == {
        2: ("email", "invalid_email"),
        3: ("email", "duplicate"),
        4: ("", "not_an_object"),
        5: ("email", "wrong_type"),
        6: ("comment", "null_characters_not_allowed"),
        7: ("full_name", "max_length"),
        8: ("email", "required"),
    }
    existing.refresh_from_db()
    # "comment" is a field of the request, so an updated client without it gets it empty (as a CSV column).
    assert (existing.full_name, existing.comment) == ("Renamed", "")
    new = Client.objects.get(owner=user, email="new1@example.org")
    assert set(get_perms(user, new)) == {"view_client", "change_client", "delete_client"}
    assert selectors.owned_clients(user).count() == 3


def test_skip_keeps_existing_clients(api, user):
    existing = ClientFactory(owner=user, email="old@example.org", full_name="Old")
    body = api.post(
        URL, {"clients": [{"email": "old@example.org", "full_name": "New"}], "on_existing": "skip"}, format="json"
    ).json()
    assert (body["created"], body["updated"], body["skipped"]) == (0, 0, 1)
    existing.refresh_from_db()
    assert existing.full_name == "Old"


def test_ten_thousand_rows_in_queries_per_batch_not_per_row(api, user, django_assert_max_num_queries):
    rows = [{"email": f"c{i}@example.org", "full_name": f"Client {i}"} for i in range(10_000)]
    # ~17 per batch of 1,000 on SQLite: its 999-variable limit splits each batch's INSERT by the client's width.
    with django_assert_max_num_queries(200):
        body = api.post(URL, {"clients": rows}, format="json").json()
    assert body["created"] == 10_000
    assert body["error_count"] == 0
    assert selectors.owned_clients(user).count() == 10_000
    again = api.post(URL, {"clients": rows[:10]}, format="json").json()
    assert (again["created"], again["updated"]) == (0, 10)


def test_more_than_ten_thousand_rows_is_400(api, user):
    rows = [{"email": f"c{i}@example.org"} for i in range(10_001)]
    response = api.post(URL, {"clients": rows}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["clients"][0]["code"] == "max_length"
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"clients": "nope"}, {"clients": {"email": "a@b.c"}}, {"clients": [], "on_existing": "merge"}, [1, 2]],
)
def test_malformed_body_is_400(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_clients_of_other_owners_are_untouched(api, other_user):
    theirs = ClientFactory(owner=other_user, email="same@example.org", full_name="Theirs")
    body = api.post(URL, {"clients": [{"email": "same@example.org", "full_name": "Mine"}]}, format="json").json()
    assert body["created"] == 1
    theirs.refresh_from_db()
    assert theirs.full_name == "Theirs"


def test_managers_cannot_bulk_write(manager):
    response = bearer(manager).post(URL, {"clients": [{"email": "a@example.org"}]}, format="json")
    assert response.status_code == 403
    assert not Client.objects.exists()
