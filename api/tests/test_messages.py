"""Messages: list, create, update, delete, preview for a client."""

from email.utils import parseaddr

import pytest

from mailings.models import Message
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/messages/"


def test_crud(api, user):
    response = api.post(URL, {"subject": " Hello ", "body": "Our news"}, format="json")
    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.owner, message.subject) == (user, "Hello")
    assert [m["id"] for m in api.get(URL).json()["results"]] == [message.pk]
    assert api.patch(f"{URL}{message.pk}/", {"body": "New text"}, format="json").status_code == 200
    message.refresh_from_db()
    assert (message.subject, message.body) == ("Hello", "New text")
    assert api.delete(f"{URL}{message.pk}/").status_code == 204
    assert not Message.objects.filter(pk=message.pk).exists()


def test_a_message_in_use_cannot_be_deleted(api, user):
    mailing = MailingFactory(owner=user)
    response = api.delete(f"{URL}{mailing.message_id}/")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["non_field_errors"][0]["code"] == "in_use"
    assert Message.objects.filter(pk=mailing.message_id).exists()


def test_missing_fields_are_field_errors(api):
    error = api.post(URL, {"subject": ""}, format="json").json()["error"]
    assert error["fields"]["subject"][0]["code"] == "blank"
    assert error["fields"]["body"][0]["code"] == "required"


def test_preview_for_one_of_my_clients(api, user, other_user, settings):
    message = MessageFactory(owner=user, subject="Sale", body="Hello, {{ full_name }}: **50% off**")
    client = ClientFactory(owner=user, email="ann@example.org", full_name="Ann <b>Lee</b>")
    body = api.get(f"{URL}{message.pk}/preview/", {"client": client.pk}).json()
    assert body["to"] == "ann@example.org"
    assert body["subject"] == "Sale"
    assert body["from_email"].endswith(f"<{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>")
    assert body["body"].startswith("Hello, Ann <b>Lee</b>: **50% off**")
    assert "/unsubscribe/" in body["body"]
    assert "Hello, Ann &lt;b&gt;Lee&lt;/b&gt;: <strong>50% off</strong>" in body["html_body"]
    theirs = ClientFactory(owner=other_user)
    assert api.get(f"{URL}{message.pk}/preview/", {"client": theirs.pk}).status_code == 404
    assert api.get(f"{URL}{message.pk}/preview/", {"client": "x"}).status_code == 400
    assert api.get(f"{URL}{message.pk}/preview/").status_code == 400


def test_another_owners_message_is_404(api, other_user):
    message = MessageFactory(owner=other_user)
    client = ClientFactory(owner=other_user)
    assert api.get(f"{URL}{message.pk}/").status_code == 404
    assert api.get(f"{URL}{message.pk}/preview/", {"client": client.pk}).status_code == 404
    assert api.patch(f"{URL}{message.pk}/", {"subject": "x"}, format="json").status_code == 404
    assert api.delete(f"{URL}{message.pk}/").status_code == 404


def test_a_subject_with_a_line_break_or_an_unknown_placeholder_is_a_field_error(api):
    response = api.post(URL, {"subject": "Hi\r\nBcc: x@example.org", "body": "Hi {{ nickname }}"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"subject", "body"}
    assert not Message.objects.exists()


def test_body_format_is_markdown_unless_plain_text_is_asked_for(api):
    assert api.post(URL, {"subject": "A", "body": "*b*"}, format="json").json()["body_format"] == "markdown"
    plain = api.post(URL, {"subject": "A", "body": "*b*", "body_format": "text"}, format="json").json()
    assert plain["body_format"] == "text"
