"""The managers' users list in the Wagtail admin: search, filters, counts, and
block / unblock with their audit trail and effect on sessions and mailings."""

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts import services
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from mailings import engine
from mailings.models import MailingStatus
from mailings.tests.factories import MailingFactory

INDEX = "accounts_user_modeladmin_index"


@pytest.fixture
def changed(monkeypatch):
    calls = []
    monkeypatch.setattr(engine, "replan_owner_mailings", calls.append)
    return calls


def log_in(user):
    return HttpClient().post(reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD})


def block_url(user):
    return reverse("accounts_user_modeladmin_block", args=[user.pk])


def unblock_url(user):
    return reverse("accounts_user_modeladmin_unblock", args=[user.pk])


def test_blocking_logs_out_open_sessions_stops_mailings_and_logs_once(
    client, manager, user, changed, django_capture_on_commit_callbacks
):
    MailingFactory(owner=user, status=MailingStatus.RUNNING)
    MailingFactory(owner=user, status=MailingStatus.COMPLETED)
    owner_session = HttpClient()
    owner_session.force_login(user)
    assert owner_session.get(reverse("mailings:dashboard")).status_code == 200

    client.force_login(manager)
    page = client.get(block_url(user))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(block_url(user), {"reason": "Sends spam"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts_user_modeladmin_inspect", args=[user.pk])

    user.refresh_from_db()
    assert user.is_blocked is True
    assert user.blocked_reason == "Sends spam"
    # The engine re-plans the owner's mailings (its post_save receiver on the user).
    assert changed == [user]

    [entry] = ModelLogEntry.objects.for_instance(user)
    assert (entry.action, entry.user, entry.data) == ("mailsite.user.block", manager, {"reason": "Sends spam"})

    # The open session is cut at the next request.
    response = owner_session.get(reverse("mailings:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    # And the user cannot log in again.
    refused = log_in(user)
    assert refused.status_code == 200
    assert not refused.wsgi_request.user.is_authenticated


def test_block_needs_a_reason(client, manager, user):
    client.force_login(manager)
    response = client.post(block_url(user), {"reason": ""})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.is_blocked is False
    assert not ModelLogEntry.objects.for_instance(user).exists()


def test_unblock_logs_once_and_the_user_can_log_in_again(
    client, manager, user, changed, django_capture_on_commit_callbacks
):
    services.user_block(user=user, by=manager, reason="Checking")
    client.force_login(manager)
    assert client.get(unblock_url(user)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(unblock_url(user)).status_code == 302
    user.refresh_from_db()
    assert user.is_blocked is False
    assert ModelLogEntry.objects.for_instance(user).filter(action="mailsite.user.unblock").count() == 1
    assert log_in(user).status_code == 302


def test_block_history_shows_in_admin_and_site_history(client, manager, user):
    services.user_block(user=user, by=manager, reason="Chargebacks")
    client.force_login(manager)
    history = client.get(reverse("accounts_user_modeladmin_history", args=[user.pk]))
    assert "User blocked: Chargebacks" in history.content.decode()
    inspect = client.get(reverse("accounts_user_modeladmin_inspect", args=[user.pk]))
    assert "User blocked: Chargebacks" in inspect.content.decode()
    assert unblock_url(user) in inspect.content.decode()
    mailings_link = reverse("mailings_mailing_modeladmin_index") + f"?owner__id__exact={user.pk}"
    assert mailings_link in inspect.content.decode()
    assert client.get(mailings_link).status_code == 200
    report = client.get(reverse("wagtailadmin_reports:site_history"))
    assert "User blocked: Chargebacks" in report.content.decode()


def test_users_list_columns_search_and_filters(client, manager, user, other_user):
    MailingFactory(owner=user)
    MailingFactory(owner=user)
    other_user.last_login = timezone.now()
    other_user.save(update_fields=["last_login"])
    services.user_block(user=other_user, by=manager, reason="x")
    unverified = UserFactory(is_verified=False, email="pending@example.net")
    client.force_login(manager)

    def rows(**params):
        response = client.get(reverse(INDEX), params)
        assert response.status_code == 200
        return {u.pk: u for u in response.context["object_list"]}

    everyone = rows()
    assert everyone[user.pk].mailings_count == 2
    assert everyone[other_user.pk].mailings_count == 0
    assert set(rows(q="pending@")) == {unverified.pk}
    assert set(rows(q=user.last_name)) >= {user.pk}
    assert set(rows(is_blocked__exact="1")) == {other_user.pk}
    assert set(rows(is_verified__exact="0")) == {unverified.pk}
    html = client.get(reverse(INDEX)).content.decode()
    for heading in ("Email address", "Name", "Email verified", "Blocked", "Date joined", "Mailings", "Last login"):
        assert heading.lower() in html.lower()
    # Block for active users, Unblock for blocked ones; never Edit or Delete.
    assert block_url(user) in html
    assert unblock_url(other_user) in html
    assert "/edit/" not in html
    assert "/delete/" not in html


def test_users_list_queries_do_not_grow_with_rows(client, manager):
    client.force_login(manager)
    client.get(reverse(INDEX))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(INDEX))
    for _ in range(10):
        MailingFactory(owner=UserFactory())
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(INDEX))
    assert len(response.context["object_list"]) == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_service_logs_on_every_path(user):
    services.user_block(user=user, by=None, reason="From a command")
    services.user_unblock(user=user, by=None)
    entries = ModelLogEntry.objects.for_instance(user).order_by("timestamp", "id")
    actions = list(entries.values_list("action", flat=True))
    assert actions == ["mailsite.user.block", "mailsite.user.unblock"]
