"""Clients: list (cursor pages, email filter), create, update, delete; another owner's client is a 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import get_perms

from mailings import selectors
from mailings.models import Client
from mailings.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/clients/"


def detail(client):
    return f"{URL}{client.pk}/"


def test_list_shows_only_mine_in_cursor_pages(api, user, other_user):
    mine = [ClientFactory(owner=user) for _ in range(5)]
    ClientFactory(owner=other_user)
    first = api.get(URL, {"page_size": 2}).json()
    assert [c["id"] for c in first["results"]] == [c.pk for c in mine[:2]]
    assert first["next"]
    assert first["previous"] is None
    seen = [c["id"] for c in first["results"]]
    page = first
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [c["id"] for c in page["results"]]
    assert seen == [c.pk for c in mine]


def test_filter_by_email_is_exact_and_normalised(api, user):
    target = ClientFactory(owner=user, email="ann@example.org")
    ClientFactory(owner=user, email="anna@example.org")
    body = api.get(URL, {"email": "  ANN@example.org "}).json()
    assert [c["id"] for c in body["results"]] == [target.pk]


def test_create_grants_owner_permissions(api, user):
    response = api.post(URL, {"email": " New@Example.org ", "full_name": "New One"}, format="json")
    assert response.status_code == 201, response.json()
    client = Client.objects.get(pk=response.json()["id"])
    assert client.email == "new@example.org"
    assert client.owner == user
    assert set(get_perms(user, client)) == {"view_client", "change_client", "delete_client"}
    assert response.json()["email"] == "new@example.org"


def test_create_duplicate_is_a_field_error(api, user):
    ClientFactory(owner=user, email="dup@example.org")
    response = api.post(URL, {"email": "DUP@example.org"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["email"][0]["code"] == "duplicate"


def test_same_email_as_another_owner_is_fine(api, other_user):
    ClientFactory(owner=other_user, email="shared@example.org")
    assert api.post(URL, {"email": "shared@example.org"}, format="json").status_code == 201


def test_update_put_and_patch(api, user):
    client = ClientFactory(owner=user, email="a@example.org", full_name="A", comment="c")
    response = api.patch(detail(client), {"full_name": "Alice"}, format="json")
    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.email, client.full_name, client.comment) == ("a@example.org", "Alice", "c")
    response = api.put(detail(client), {"email": "b@example.org"}, format="json")
    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.email, client.full_name, client.comment) == ("b@example.org", "", "")


def test_update_to_a_taken_email_is_400(api, user):
    ClientFactory(owner=user, email="taken@example.org")
    client = ClientFactory(owner=user)
    response = api.patch(detail(client), {"email": "taken@example.org"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["email"][0]["code"] == "duplicate"


def test_delete(api, user):
    client = ClientFactory(owner=user)
    assert api.delete(detail(client)).status_code == 204
    assert not Client.objects.filter(pk=client.pk).exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_owners_client_is_404(api, other_user, method):
    client = ClientFactory(owner=other_user)
    response = getattr(api, method)(detail(client), {"email": "x@example.org"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Client.objects.get(pk=client.pk).email == client.email


def test_managers_read_everything_and_write_nothing(manager_api, user):
    client = ClientFactory(owner=user)
    assert manager_api.get(detail(client)).status_code == 200
    assert client.pk in [c["id"] for c in manager_api.get(URL).json()["results"]]
    response = manager_api.post(URL, {"email": "m@example.org"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "read_only"
    assert manager_api.delete(detail(client)).status_code == 403
    assert selectors.owned_clients(user).filter(pk=client.pk).exists()


def queries_for(api, url, params):
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url, params).status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_the_page(api, user):
    for _ in range(30):
        ClientFactory(owner=user)
    queries_for(api, URL, {})  # warm: token use recorded, throttle key made
    assert queries_for(api, URL, {"page_size": 30}) == queries_for(api, URL, {"page_size": 1})


def test_filter_by_unsubscribed_and_bounced(api, user):
    left = ClientFactory(owner=user, unsubscribed_at=timezone.now(), unsubscribe_source="link")
    gone = ClientFactory(owner=user, bounced_at=timezone.now())
    stays = ClientFactory(owner=user)

    def ids(**params):
        return {c["id"] for c in api.get(URL, params).json()["results"]}

    assert ids(unsubscribed="true") == {left.pk}
    assert ids(unsubscribed="false") == {gone.pk, stays.pk}
    assert ids(bounced="true") == {gone.pk}
    assert ids(bounced="false", unsubscribed="false") == {stays.pk}
    assert api.get(URL, {"bounced": "maybe"}).status_code == 400
    row = next(c for c in api.get(URL).json()["results"] if c["id"] == left.pk)
    assert row["unsubscribe_source"] == "link"
    assert row["unsubscribed_at"] is not None
