"""Someone else's objects answer 404 on every customer URL, on GET and POST alike;
list-level screens never show or accept them."""

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from mailings.models import Attempt, AttemptStatus, Client, Mailing, Message, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(user):
    """The first user's objects, with a run and an attempt so every page has something to show."""
    client = ClientFactory(owner=user, email="ann@example.org", full_name="Ann Mine")
    message = MessageFactory(owner=user, subject="Only for my eyes")
    mailing = MailingFactory(owner=user, message=message, clients=[client])
    run = Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at, status=RunStatus.FINISHED, sent_count=1)
    Attempt.objects.create(
        mailing=mailing, run=run, client=client, email=client.email, status=AttemptStatus.SUCCESS, server_reply="250 ok"
    )
    return SimpleNamespace(client=client, message=message, mailing=mailing)


def _mailing_post(message, clients):
    start = timezone.localtime() + timedelta(days=2)
    return {
        "message": message.pk,
        "clients": [c.pk for c in clients],
        "start_at": start.strftime("%Y-%m-%dT%H:%M"),
        "end_at": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "periodicity": "once",
    }


# (url name, which object, POST data that would be valid for the owner)
OBJECT_URLS = [
    ("client_update", "client", lambda m: {"email": "hacked@example.org", "full_name": "x", "comment": ""}),
    ("client_delete", "client", lambda m: {}),
    ("message_preview", "message", lambda m: {}),
    ("message_update", "message", lambda m: {"subject": "hacked", "body": "hacked"}),
    ("message_delete", "message", lambda m: {}),
    ("mailing_detail", "mailing", lambda m: {}),
    ("mailing_update", "mailing", lambda m: _mailing_post(m.message, [m.client])),
    ("mailing_delete", "mailing", lambda m: {}),
    ("mailing_attempts", "mailing", lambda m: {}),
    ("mailing_attempts_export", "mailing", lambda m: {}),
]


@pytest.mark.parametrize(("name", "kind", "data"), OBJECT_URLS, ids=[u[0] for u in OBJECT_URLS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_elses_object_is_404(other_client, mine, name, kind, data, method):
    obj = getattr(mine, kind)
    url = reverse(f"mailings:{name}", args=[obj.pk])

    response = getattr(other_client, method)(url, data(mine) if method == "post" else None)

    assert response.status_code == 404
    # Nothing changed, nothing went.
    assert type(obj).objects.filter(pk=obj.pk).exists()
    obj.refresh_from_db()
    assert "hacked" not in str(obj)


@pytest.mark.parametrize(("name", "kind", "data"), OBJECT_URLS, ids=[u[0] for u in OBJECT_URLS])
def test_the_owner_reaches_every_object_url(user_client, mine, name, kind, data):
    response = user_client.get(reverse(f"mailings:{name}", args=[getattr(mine, kind).pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["message_preview", "mailing_detail", "mailing_attempts", "mailing_attempts_export"])
def test_read_only_pages_refuse_post_to_the_owner_too(user_client, mine, name):
    kind = "message" if name.startswith("message") else "mailing"
    response = user_client.post(reverse(f"mailings:{name}", args=[getattr(mine, kind).pk]))
    assert response.status_code == 405


def test_a_deleted_or_missing_pk_is_404_for_the_owner(user_client):
    for name in ("client_update", "message_preview", "mailing_detail", "mailing_attempts_export"):
        assert user_client.get(reverse(f"mailings:{name}", args=[999999])).status_code == 404


LIST_URLS = ["dashboard", "client_list", "message_list", "mailing_list", "reports", "client_export"]


@pytest.mark.parametrize("name", LIST_URLS)
def test_lists_and_exports_show_only_my_objects(other_client, other_user, mine, name):
    ClientFactory(owner=other_user, email="theirs@example.org")
    response = other_client.get(reverse(f"mailings:{name}"))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"ann@example.org" not in body
    assert b"Only for my eyes" not in body
    if name == "client_export":
        assert b"theirs@example.org" in body


def test_dashboard_counts_only_my_objects(other_client, mine):
    response = other_client.get(reverse("mailings:dashboard"))
    assert response.context["clients_count"] == 0
    assert response.context["messages_count"] == 0
    assert response.context["mailings_count"] == 0
    assert response.context["sent_recent"] == 0


def test_mailing_create_refuses_someone_elses_message_and_clients(other_client, other_user, mine):
    response = other_client.post(reverse("mailings:mailing_create"), _mailing_post(mine.message, [mine.client]))
    assert response.status_code == 200
    form = response.context["form"]
    assert "message" in form.errors
    assert "clients" in form.errors
    assert not Mailing.objects.filter(owner=other_user).exists()


def test_mailing_update_refuses_someone_elses_clients(other_client, other_user, mine):
    theirs = MailingFactory(owner=other_user, clients=[ClientFactory(owner=other_user)])
    response = other_client.post(
        reverse("mailings:mailing_update", args=[theirs.pk]), _mailing_post(theirs.message, [mine.client])
    )
    assert response.status_code == 200
    assert "clients" in response.context["form"].errors
    assert mine.client not in theirs.clients.all()


def test_all_my_clients_means_mine_only(other_client, other_user, mine):
    own = ClientFactory(owner=other_user)
    message = MessageFactory(owner=other_user)
    data = {**_mailing_post(message, []), "all_clients": "on"}
    response = other_client.post(reverse("mailings:mailing_create"), data)
    assert response.status_code == 302
    mailing = Mailing.objects.get(owner=other_user)
    assert list(mailing.clients.all()) == [own]


def test_import_writes_only_into_my_own_list(other_client, other_user, mine):
    upload = io.BytesIO(b"email,full name\nann@example.org,Taken Over\n")
    upload.name = "clients.csv"
    response = other_client.post(reverse("mailings:client_import"), {"file": upload, "on_existing": "update"})
    assert response.status_code == 200
    mine.client.refresh_from_db()
    assert mine.client.full_name == "Ann Mine"
    theirs = Client.objects.get(owner=other_user)
    assert theirs.email == "ann@example.org"
    assert theirs.full_name == "Taken Over"


def test_the_same_email_may_belong_to_two_owners(other_client, other_user, mine):
    response = other_client.post(reverse("mailings:client_create"), {"email": "ANN@example.org ", "full_name": ""})
    assert response.status_code == 302
    assert Client.objects.filter(email="ann@example.org").count() == 2


def test_client_search_finds_only_my_clients(client, user, other_user, mine):
    url = reverse("mailings:client_search")
    client.force_login(other_user)
    assert client.get(url, {"q": "ann"}).json() == {"results": []}
    client.force_login(user)
    assert client.get(url, {"q": "ann"}).json() == {
        "results": [{"id": mine.client.pk, "email": "ann@example.org", "full_name": "Ann Mine"}]
    }


OTHER_LIST_URLS = ["client_search", "client_create", "client_import", "message_create", "mailing_create"]
ALL_URLS = [(name, None) for name in [*LIST_URLS, *OTHER_LIST_URLS]]
ALL_URLS += [(name, kind) for name, kind, _ in OBJECT_URLS]


@pytest.mark.parametrize(("name", "kind"), ALL_URLS, ids=[u[0] for u in ALL_URLS])
def test_anonymous_visitors_are_sent_to_log_in(client, mine, name, kind):
    args = [getattr(mine, kind).pk] if kind else []
    for method in ("get", "post"):
        response = getattr(client, method)(reverse(f"mailings:{name}", args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "kind"), ALL_URLS, ids=[u[0] for u in ALL_URLS])
def test_unverified_users_get_403(client, mine, name, kind):
    client.force_login(UserFactory(is_verified=False))
    args = [getattr(mine, kind).pk] if kind else []
    assert client.get(reverse(f"mailings:{name}", args=args)).status_code == 403
    assert client.post(reverse(f"mailings:{name}", args=args)).status_code == 403


def test_blocked_users_are_logged_out(client, user, mine):
    client.force_login(user)
    user.is_blocked = True
    user.save()
    response = client.get(reverse("mailings:mailing_detail", args=[mine.mailing.pk]))
    assert response.status_code == 302


def test_managers_and_superusers_see_only_their_own_objects_on_these_screens(client, manager, superuser, mine):
    for viewer in (manager, superuser):
        client.force_login(viewer)
        assert client.get(reverse("mailings:mailing_detail", args=[mine.mailing.pk])).status_code == 404
        assert client.get(reverse("mailings:client_update", args=[mine.client.pk])).status_code == 404
        response = client.get(reverse("mailings:client_list"))
        assert b"ann@example.org" not in response.content
    assert Message.objects.filter(pk=mine.message.pk).exists()
