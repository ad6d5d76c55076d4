"""Unsubscribe links (RFC 8058), the recipient's pages and the owner's way back."""

import io

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from mailings import services, subscriptions
from mailings.imports import OnExisting
from mailings.models import Client, UnsubscribeSource
from mailings.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return HttpClient(enforce_csrf_checks=True)


def url_for(client):
    return subscriptions.unsubscribe_url(client.owner_id, client.pk)


def test_get_shows_one_button_and_unsubscribes_nobody(csrf_client):
    client = ClientFactory()
    response = csrf_client.get(url_for(client))
    assert response.status_code == 200
    assert 'data-state="subscribed"' in response.content.decode()
    assert '<form method="post">' in response.content.decode()
    client.refresh_from_db()
    assert client.unsubscribed_at is None


def test_one_click_post_unsubscribes_without_login_or_csrf(csrf_client):
    client, other = ClientFactory(), ClientFactory()
    response = csrf_client.post(url_for(client), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    client.refresh_from_db()
    other.refresh_from_db()
    assert client.unsubscribed_at is not None
    assert client.unsubscribe_source == UnsubscribeSource.ONE_CLICK
    assert other.unsubscribed_at is None


def test_the_page_button_unsubscribes_and_the_recipient_can_undo_it(csrf_client):
    client = ClientFactory()
    response = csrf_client.post(url_for(client), follow=True)
    page = response.content.decode()
    assert 'data-state="unsubscribed"' in page
    client.refresh_from_db()
    assert client.unsubscribe_source == UnsubscribeSource.LINK
    # The way back is an explicit, CSRF-protected button on the same page.
    token = url_for(client).rstrip("/").rpartition("/")[2]
    assert reverse("unsubscribe_undo", args=[token]) in page
    browser = HttpClient()
    browser.get(url_for(client))
    browser.post(reverse("unsubscribe_undo", args=[token]))
    client.refresh_from_db()
    assert client.unsubscribed_at is None


def test_a_token_works_for_its_own_owner_and_client_only(csrf_client):
    client, stranger = ClientFactory(), ClientFactory()
    token = subscriptions.make_token(client.owner_id, client.pk)
    forged = token.replace(f"{client.owner_id}.{client.pk}.", f"{stranger.owner_id}.{stranger.pk}.", 1)
    assert csrf_client.post(reverse("unsubscribe", args=[forged]), {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert csrf_client.get(reverse("unsubscribe", args=["garbage"])).status_code == 404
    # The right signature for another owner's id does not reach this client either.
    other_owner = subscriptions.make_token(stranger.owner_id, client.pk)
    csrf_client.post(reverse("unsubscribe", args=[other_owner]), {"List-Unsubscribe": "One-Click"})
    stranger.refresh_from_db()
    client.refresh_from_db()
    assert client.unsubscribed_at is None
    assert stranger.unsubscribed_at is None


def test_a_test_message_link_unsubscribes_nobody(csrf_client):
    client = ClientFactory()
    url = subscriptions.unsubscribe_url(client.owner_id, None)
    response = csrf_client.post(url, {"List-Unsubscribe": "One-Click"}, follow=True)
    assert response.status_code == 200
    assert Client.objects.filter(unsubscribed_at__isnull=False).count() == 0


def test_the_owner_resubscribes_only_after_confirming(user_client, user):
    client = ClientFactory(owner=user)
    subscriptions.client_unsubscribe(client=client, source=UnsubscribeSource.LINK)
    url = reverse("mailings:client_subscription", args=[client.pk, "resubscribe"])
    assert user_client.get(url).status_code == 200
    client.refresh_from_db()
    assert client.unsubscribed_at is not None
    user_client.post(url)
    client.refresh_from_db()
    assert client.unsubscribed_at is None


def test_another_customer_cannot_touch_my_clients_subscription(other_client, user):
    client = ClientFactory(owner=user)
    url = reverse("mailings:client_subscription", args=[client.pk, "unsubscribe"])
    assert other_client.post(url).status_code == 404
    client.refresh_from_db()
    assert client.unsubscribed_at is None


def test_an_edit_or_an_import_never_subscribes_again(user_client, user):
    client = ClientFactory(owner=user, email="gone@example.org")
    subscriptions.client_unsubscribe(client=client, source=UnsubscribeSource.ONE_CLICK)
    user_client.post(
        reverse("mailings:client_update", args=[client.pk]), {"email": client.email, "full_name": "New", "comment": ""}
    )
    csv = "email,full name,unsubscribed\ngone@example.org,Again,no\nnew@example.org,New,yes\n"
    services.clients_import(owner=user, file=io.BytesIO(csv.encode()), on_existing=OnExisting.UPDATE)
    client.refresh_from_db()
    assert client.unsubscribed_at is not None
    assert client.unsubscribe_source == UnsubscribeSource.ONE_CLICK
    new = Client.objects.get(owner=user, email="new@example.org")
    assert new.unsubscribe_source == UnsubscribeSource.IMPORT


def test_the_client_list_marks_unsubscribed_clients(user_client, user):
    client = ClientFactory(owner=user)
    subscriptions.client_unsubscribe(client=client, source=UnsubscribeSource.OWNER)
    page = user_client.get(reverse("mailings:client_list")).content.decode()
    assert 'data-testid="unsubscribed"' in page


def test_an_emailed_unsubscribe_request_unsubscribes_its_client(monkeypatch):
    import sys
    from io import BytesIO, StringIO, TextIOWrapper

    from django.core.management import call_command

    client, other = ClientFactory(), ClientFactory()
    token = subscriptions.make_token(client.owner_id, client.pk)
    mail = f"From: {client.email}\r\nTo: unsubscribe@mailsite.localhost\r\nSubject: unsubscribe {token}\r\n\r\n"
    monkeypatch.setattr(sys, "stdin", TextIOWrapper(BytesIO(mail.encode())))
    out = StringIO()
    call_command("unsubscribe_mail", stdout=out)
    client.refresh_from_db()
    other.refresh_from_db()
    assert client.unsubscribe_source == UnsubscribeSource.EMAIL
    assert other.unsubscribed_at is None
