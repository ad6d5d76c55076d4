"""What a customer does on the screens: clients, messages and mailings.
(The detail page and reports: test_views_detail.py.)"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailings import engine
from mailings.models import Client, Mailing, MailingStatus, Message, Periodicity, Run
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(monkeypatch):
    """Records the scheduler calls the services promise (the engine's replan_mailing)."""
    calls = []
    monkeypatch.setattr(engine, "replan_mailing", lambda mailing: calls.append(mailing.pk))
    return calls


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def mailing_data(message, clients=(), *, start=None, hours=24, **extra):
    start = start or timezone.now() + timedelta(days=1)
    return {
        "message": message.pk,
        "clients": [c.pk for c in clients],
        "start_at": local(start),
        "end_at": local(start + timedelta(hours=hours)),
        "periodicity": "daily",
        **extra,
    }


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Clients ----------------------------------------------------------------------


def test_create_a_client(user_client, user):
    response = user_client.post(
        reverse("mailings:client_create"),
        {"email": "  Ann@Example.ORG ", "full_name": "Ann", "comment": ""},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("mailings:client_list")
    client = Client.objects.get(owner=user)
    assert client.email == "ann@example.org"
    assert user.has_perm("mailings.view_client", client)
    assert user.has_perm("mailings.change_client", client)
    assert user.has_perm("mailings.delete_client", client)
    assert any("added" in m for m in messages_of(response))
    assert b"ann@example.org" in response.content


def test_a_duplicate_email_is_a_form_error(user_client, user):
    ClientFactory(owner=user, email="ann@example.org")
    response = user_client.post(reverse("mailings:client_create"), {"email": "ANN@example.org"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert Client.objects.filter(owner=user).count() == 1


def test_edit_a_client_and_keep_emails_unique(user_client, user):
    ann = ClientFactory(owner=user, email="ann@example.org")
    ClientFactory(owner=user, email="bob@example.org")
    url = reverse("mailings:client_update", args=[ann.pk])

    response = user_client.post(url, {"email": "Bob@example.org", "full_name": "x"})
    assert "email" in response.context["form"].errors

    response = user_client.post(url, {"email": "ann@example.org", "full_name": "Ann Smith", "comment": "vip"})
    assert response.status_code == 302
    ann.refresh_from_db()
    assert (ann.full_name, ann.comment) == ("Ann Smith", "vip")


def test_delete_a_client_removes_it_from_mailings(user_client, user):
    ann = ClientFactory(owner=user)
    mailing = MailingFactory(owner=user, clients=[ann])
    assert user_client.get(reverse("mailings:client_delete", args=[ann.pk])).status_code == 200
    response = user_client.post(reverse("mailings:client_delete", args=[ann.pk]))
    assert response.status_code == 302
    assert not Client.objects.filter(pk=ann.pk).exists()
    assert mailing.clients.count() == 0


def test_client_list_searches_and_paginates(user_client, user):
    for i in range(30):
        ClientFactory(owner=user, email=f"c{i:02d}@example.org", full_name=f"Person {i}")
    ClientFactory(owner=user, email="zed@example.org", full_name="Zed Findme")
    response = user_client.get(reverse("mailings:client_list"))
    assert len(response.context["page_obj"]) == 25
    assert response.context["page_obj"].paginator.num_pages == 2
    response = user_client.get(reverse("mailings:client_list"), {"q": "findme"})
    assert [c.email for c in response.context["page_obj"]] == ["zed@example.org"]
    response = user_client.get(reverse("mailings:client_list"), {"page": 2})
    assert len(response.context["page_obj"]) == 6


# --- Messages ---------------------------------------------------------------------


def test_write_preview_edit_and_delete_a_message(user_client, user):
    response = user_client.post(
        reverse("mailings:message_create"), {"subject": "Hello <b>", "body": "Line one\nLine <two>"}
    )
    message = Message.objects.get(owner=user)
    assert response["Location"] == reverse("mailings:message_preview", args=[message.pk])
    assert user.has_perm("mailings.change_message", message)

    preview = user_client.get(response["Location"]).content.decode()
    assert "Hello &lt;b&gt;" in preview
    rendered = user_client.get(reverse("mailings:message_render", args=[message.pk])).content.decode()
    assert "Line &lt;two&gt;" in rendered

    user_client.post(reverse("mailings:message_update", args=[message.pk]), {"subject": "Hi", "body": "New"})
    message.refresh_from_db()
    assert (message.subject, message.body) == ("Hi", "New")

    user_client.post(reverse("mailings:message_delete", args=[message.pk]))
    assert not Message.objects.filter(pk=message.pk).exists()


def test_a_message_in_use_is_not_deleted(user_client, user):
    mailing = MailingFactory(owner=user)
    response = user_client.post(reverse("mailings:message_delete", args=[mailing.message_id]), follow=True)
    assert Message.objects.filter(pk=mailing.message_id).exists()
    assert any("used by 1 mailing" in m for m in messages_of(response))


def test_message_form_requires_subject_and_body(user_client):
    response = user_client.post(reverse("mailings:message_create"), {"subject": "", "body": ""})
    assert set(response.context["form"].errors) == {"subject", "body"}


# --- Mailings ---------------------------------------------------------------------


def test_create_a_mailing(user_client, user, scheduled, django_capture_on_commit_callbacks):
    clients = ClientFactory.create_batch(3, owner=user)
    message = MessageFactory(owner=user)
    form_page = user_client.get(reverse("mailings:mailing_create")).content.decode()
    assert 'type="datetime-local"' in form_page
    assert 'id="client-filter"' in form_page

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(reverse("mailings:mailing_create"), mailing_data(message, clients[:2]))

    mailing = Mailing.objects.get(owner=user)
    assert response["Location"] == reverse("mailings:mailing_detail", args=[mailing.pk])
    assert set(mailing.clients.all()) == set(clients[:2])
    assert mailing.periodicity == Periodicity.DAILY
    assert mailing.status == MailingStatus.CREATED
    assert user.has_perm("mailings.change_mailing", mailing)
    assert user.has_perm("mailings.delete_mailing", mailing)
    assert scheduled == [mailing.pk]


def test_datetime_local_values_are_read_in_the_site_time_zone(user_client, user, settings):
    message = MessageFactory(owner=user)
    client = ClientFactory(owner=user)
    data = {**mailing_data(message, [client]), "start_at": "2031-07-01T09:30", "end_at": "2031-07-02T09:30"}
    user_client.post(reverse("mailings:mailing_create"), data)
    mailing = Mailing.objects.get(owner=user)
    assert timezone.localtime(mailing.start_at).strftime("%Y-%m-%d %H:%M") == "2031-07-01 09:30"
    assert settings.TIME_ZONE == "Europe/London"
    assert mailing.start_at.utcoffset().total_seconds() == 0  # stored in UTC: 08:30
    assert mailing.start_at.hour == 8


def test_mailing_form_validation(user_client, user):
    message = MessageFactory(owner=user)
    client = ClientFactory(owner=user)
    response = user_client.post(reverse("mailings:mailing_create"), mailing_data(message, [client], hours=-1))
    assert "end_at" in response.context["form"].errors
    response = user_client.post(reverse("mailings:mailing_create"), mailing_data(message, []))
    assert "clients" in response.context["form"].errors
    response = user_client.post(reverse("mailings:mailing_create"), {"periodicity": "yearly"})
    assert {"message", "periodicity"} <= set(response.context["form"].errors)
    response = user_client.post(
        reverse("mailings:mailing_create"), {**mailing_data(message, [client]), "start_mode": "at", "start_at": ""}
    )
    assert response.context["form"].errors["start_at"] == ["Choose the start time, or “Start now”."]
    assert not Mailing.objects.exists()


def test_all_my_clients(user_client, user):
    clients = ClientFactory.create_batch(4, owner=user)
    message = MessageFactory(owner=user)
    user_client.post(reverse("mailings:mailing_create"), mailing_data(message, clients[:1], all_clients="on"))
    assert set(Mailing.objects.get(owner=user).clients.all()) == set(clients)


def test_the_client_picker_lists_a_limited_number_and_searches_the_server(user_client, user, monkeypatch):
    from mailings import forms

    monkeypatch.setattr(forms, "CLIENT_PICKER_LIMIT", 5)
    clients = [ClientFactory(owner=user, email=f"c{i:02d}@example.org") for i in range(8)]
    mailing = MailingFactory(owner=user, clients=[clients[7]])
    response = user_client.get(reverse("mailings:mailing_update", args=[mailing.pk]))
    picker = response.context["form"].client_picker()
    content = response.content.decode()
    # The first five by email, plus the ticked one from further down.
    assert [email for _pk, email, _name in picker["choices"]] == [c.email for c in clients[:5]] + ["c07@example.org"]
    assert (picker["total"], picker["truncated"]) == (8, True)
    assert f'data-search-url="{reverse("mailings:client_search")}"' in content
    assert "Showing 6 of your 8 clients" in content
    found = user_client.get(reverse("mailings:client_search"), {"q": "c06"}).json()["results"]
    assert [c["email"] for c in found] == ["c06@example.org"]


def test_a_mailing_to_every_client_is_edited_as_all_my_clients(user_client, user):
    clients = ClientFactory.create_batch(3, owner=user)
    mailing = MailingFactory(owner=user, clients=clients)
    form = user_client.get(reverse("mailings:mailing_update", args=[mailing.pk])).context["form"]
    assert form["all_clients"].value() is True
    ClientFactory(owner=user)
    form = user_client.get(reverse("mailings:mailing_update", args=[mailing.pk])).context["form"]
    assert form["all_clients"].value() is False
    assert form.client_picker()["selected"] == {c.pk for c in clients}


def test_edit_a_mailing_reschedules_it(user_client, user, scheduled, django_capture_on_commit_callbacks):
    a, b = ClientFactory.create_batch(2, owner=user)
    mailing = MailingFactory(owner=user, clients=[a], status=MailingStatus.COMPLETED)
    new_message = MessageFactory(owner=user)
    page = user_client.get(reverse("mailings:mailing_update", args=[mailing.pk])).content.decode()
    assert f'value="{a.pk}" id="client-{a.pk}" checked' in page
    assert "has completed" in page

    start = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            reverse("mailings:mailing_update", args=[mailing.pk]), mailing_data(new_message, [b], start=start)
        )
    assert response.status_code == 302
    mailing.refresh_from_db()
    assert list(mailing.clients.all()) == [b]
    assert mailing.message == new_message
    assert local(mailing.start_at) == local(start)
    assert scheduled == [mailing.pk]


def test_delete_a_mailing(user_client, user):
    mailing = MailingFactory(owner=user)
    Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at)
    response = user_client.post(reverse("mailings:mailing_delete", args=[mailing.pk]))
    assert response.status_code == 302
    assert not Mailing.objects.filter(pk=mailing.pk).exists()
    assert not Run.objects.exists()


def test_mailing_list_shows_status_next_run_and_success_rate(user_client, user):
    mailing = MailingFactory(owner=user, status=MailingStatus.RUNNING)
    mailing.next_run_at = timezone.now() + timedelta(hours=5)
    mailing.save()
    Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at, sent_count=3, failed_count=1)
    MailingFactory(owner=user)
    response = user_client.get(reverse("mailings:mailing_list"))
    rows = {m.pk: m for m in response.context["page_obj"]}
    assert rows[mailing.pk].success_rate == 75.0
    content = response.content.decode()
    assert "75.0" in content
    assert "Running" in content
    assert "—" in content  # the mailing that never ran


# --- Start now, default end, time zone ----------------------------------------------


def test_a_new_mailing_starts_now_by_default_with_a_sensible_end(
    user_client, user, scheduled, django_capture_on_commit_callbacks
):
    message = MessageFactory(owner=user)
    client = ClientFactory(owner=user)
    page = user_client.get(reverse("mailings:mailing_create"))
    assert page.context["form"]["start_mode"].value() == "now"
    assert "Times are in your time zone, Europe/London." in page.content.decode()
    before = timezone.now().replace(microsecond=0)
    data = {"message": message.pk, "clients": [client.pk], "periodicity": "once", "start_mode": "now"}
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("mailings:mailing_create"), data)
    mailing = Mailing.objects.get(owner=user)
    assert before <= mailing.start_at <= timezone.now()
    assert mailing.end_at - mailing.start_at == timedelta(days=1)
    assert scheduled == [mailing.pk]


def test_a_recurring_mailing_ends_a_calendar_month_later_by_default(user_client, user):
    message = MessageFactory(owner=user)
    client = ClientFactory(owner=user)
    data = {
        "message": message.pk,
        "clients": [client.pk],
        "periodicity": "weekly",
        "start_mode": "at",
        "start_at": "2031-01-31T09:00",
    }
    user_client.post(reverse("mailings:mailing_create"), data)
    mailing = Mailing.objects.get(owner=user)
    assert local(mailing.end_at) == "2031-02-28T09:00"


def test_editing_keeps_the_start_time_mode(user_client, user):
    mailing = MailingFactory(owner=user)
    form = user_client.get(reverse("mailings:mailing_update", args=[mailing.pk])).context["form"]
    assert form["start_mode"].value() == "at"
    assert form["start_at"].value().strftime("%Y-%m-%dT%H:%M") == local(mailing.start_at)
