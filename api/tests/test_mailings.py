"""Mailings: list with the reports numbers, create, update, delete; managers'
disable/enable; the run action "retry failed recipients"."""

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import ModelLogEntry

from mailings import services
from mailings.models import Mailing, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory
from mailings.tests.test_sending_retry_view import finished_run  # noqa: F401 - the screens' fixture

pytestmark = pytest.mark.django_db
URL = "/api/v1/mailings/"


def times(days=1):
    start = timezone.now() + timedelta(days=days)
    return {"start_at": start.isoformat(), "end_at": (start + timedelta(days=7)).isoformat()}


def test_create_with_chosen_clients(api, user):
    message = MessageFactory(owner=user)
    clients = [ClientFactory(owner=user) for _ in range(3)]
    body = {"message": message.pk, "clients": [c.pk for c in clients[:2]], "periodicity": "weekly", **times()}
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    mailing = Mailing.objects.get(pk=data["id"])
    assert set(mailing.clients.values_list("pk", flat=True)) == {clients[0].pk, clients[1].pk}
    assert (data["message"], data["periodicity"], data["status"]) == (message.pk, "weekly", "created")
    assert data["stats"]["recipients"] == 2
    assert data["stats"]["success_rate"] is None


def test_create_for_all_clients(api, user):
    message = MessageFactory(owner=user)
    for _ in range(4):
        ClientFactory(owner=user)
    response = api.post(URL, {"message": message.pk, "all_clients": True, **times()}, format="json")
    assert response.status_code == 201
    assert response.json()["stats"]["recipients"] == 4


def test_create_refuses_what_is_not_mine(api, user, other_user):
    mine = MessageFactory(owner=user)
    theirs = MessageFactory(owner=other_user)
    their_client = ClientFactory(owner=other_user)
    error = api.post(URL, {"message": theirs.pk, **times()}, format="json").json()["error"]
    assert error["fields"]["message"][0]["code"] == "does_not_exist"
    response = api.post(URL, {"message": mine.pk, "clients": [their_client.pk], **times()}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["clients"][0]["code"] == "does_not_exist"
    assert not Mailing.objects.exists()


def test_end_before_start_is_a_field_error(api, user):
    message = MessageFactory(owner=user)
    start = timezone.now() + timedelta(days=2)
    body = {"message": message.pk, "start_at": start.isoformat(), "end_at": (start - timedelta(hours=1)).isoformat()}
    error = api.post(URL, body, format="json").json()["error"]
    assert error["fields"]["end_at"][0]["code"] == "invalid"


def test_update_keeps_recipients_unless_given(api, user):
    clients = [ClientFactory(owner=user) for _ in range(2)]
    mailing = MailingFactory(owner=user, clients=clients)
    response = api.patch(f"{URL}{mailing.pk}/", {"periodicity": "daily"}, format="json")
    assert response.status_code == 200, response.json()
    mailing.refresh_from_db()
    assert mailing.periodicity == "daily"
    assert mailing.clients.count() == 2
    api.patch(f"{URL}{mailing.pk}/", {"clients": [clients[0].pk]}, format="json")
    assert list(mailing.clients.values_list("pk", flat=True)) == [clients[0].pk]
    other_message = MessageFactory(owner=user)
    body = {"message": other_message.pk, **times(3)}
    assert api.put(f"{URL}{mailing.pk}/", body, format="json").status_code == 200
    mailing.refresh_from_db()
    assert mailing.message == other_message


def test_delete(api, user):
    mailing = MailingFactory(owner=user)
    assert api.delete(f"{URL}{mailing.pk}/").status_code == 204
    assert not Mailing.objects.filter(pk=mailing.pk).exists()


def test_list_has_the_reports_numbers(api, user, other_user):
    mailing = MailingFactory(owner=user)
    MailingFactory(owner=other_user)
    Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), sent_count=3, failed_count=1, suppressed_count=2)
    results = api.get(URL).json()["results"]
    assert [m["id"] for m in results] == [mailing.pk]
    assert results[0]["stats"] | {"last_run_at": None} == {
        "runs": 1,
        "recipients": 0,
        "sent": 3,
        "failed": 1,
        "attempts": 4,
        "suppressed": 2,
        "success_rate": 75.0,
        "last_run_at": None,
    }


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_owners_mailing_is_404(api, other_user, method):
    mailing = MailingFactory(owner=other_user)
    assert getattr(api, method)(f"{URL}{mailing.pk}/", {}, format="json").status_code == 404
    assert Mailing.objects.filter(pk=mailing.pk).exists()


def test_manager_disables_and_enables_with_a_reason(manager_api, manager, user):
    mailing = MailingFactory(owner=user)
    response = manager_api.post(f"{URL}{mailing.pk}/disable/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["reason"][0]["code"] == "required"
    response = manager_api.post(f"{URL}{mailing.pk}/disable/", {"reason": "Spam complaints"}, format="json")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["disabled_reason"]) == (False, "Spam complaints")
    mailing.refresh_from_db()
    assert (mailing.is_active, mailing.disabled_by) == (False, manager)
    assert ModelLogEntry.objects.filter(action="mailsite.mailing.disable", object_id=str(mailing.pk)).exists()
    again = manager_api.post(f"{URL}{mailing.pk}/disable/", {"reason": "again"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_disabled"
    assert manager_api.post(f"{URL}{mailing.pk}/enable/").status_code == 200
    mailing.refresh_from_db()
    assert mailing.is_active
    assert manager_api.post(f"{URL}{mailing.pk}/enable/").json()["error"]["code"] == "already_enabled"


def test_customers_cannot_disable_even_their_own(api, user):
    mailing = MailingFactory(owner=user)
    response = api.post(f"{URL}{mailing.pk}/disable/", {"reason": "x"}, format="json")
    assert response.status_code == 403
    mailing.refresh_from_db()
    assert mailing.is_active


def test_retry_failed_recipients_of_a_run(request, api, other_api, manager_api, smtp_server):
    run = request.getfixturevalue("finished_run")
    url = f"/api/v1/runs/{run.pk}/retry-failed/"
    assert other_api.post(url).status_code == 404
    assert manager_api.post(url).status_code == 403
    response = api.post(url)
    assert response.status_code == 200
    assert response.json() == {"count": 1}
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 3, 0)
    assert api.post(url).json() == {"count": 0}


def test_owner_controls_start_now_then_cancel_and_a_refused_pause_is_409(api, user):
    mailing = MailingFactory(owner=user)  # created, starts tomorrow
    refused = api.post(f"{URL}{mailing.pk}/pause/")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_allowed"
    started = api.post(f"{URL}{mailing.pk}/start-now/")
    assert started.status_code == 200
    mailing.refresh_from_db()
    assert mailing.start_at <= timezone.now()
    cancelled = api.post(f"{URL}{mailing.pk}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert api.post(f"{URL}{mailing.pk}/resume/").status_code == 409


def test_a_manager_disable_locks_the_owners_controls(api, user, manager):
    mailing = MailingFactory(owner=user)
    services.mailing_disable(mailing=mailing, by=manager, reason="Spam")
    response = api.post(f"{URL}{mailing.pk}/start-now/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "locked"
