"""The sender identity of a customer's mailings: a name and a reply-to address verified by a link."""

import re

import pytest
from django.urls import reverse

from accounts.tokens import REPLY_TO

pytestmark = pytest.mark.django_db


def link_in(mail):
    return re.search(r"https?://\S+", mail.get_body(("plain",)).get_content()).group(0)


def test_a_new_reply_to_is_used_only_after_its_link_is_opened(
    client, user, smtp_server, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:sender"), {"sender_name": "Acme Ltd", "reply_to_email": "Sales@Acme.example"})
    user.refresh_from_db()
    assert (user.sender_name, user.reply_to_email, user.reply_to_verified) == ("Acme Ltd", "sales@acme.example", False)
    assert user.mail_reply_to == user.email
    assert smtp_server.handler.recipients == ["sales@acme.example"]
    link = link_in(smtp_server.messages[0])
    response = client.get(link.replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.reply_to_verified
    assert user.mail_reply_to == "sales@acme.example"


def test_a_link_for_an_address_since_replaced_does_not_work(client, user):
    user.reply_to_email = "old@acme.example"
    user.save()
    token = REPLY_TO.make(user, "old@acme.example")
    user.reply_to_email = "new@acme.example"
    user.save()
    response = client.get(reverse("accounts:verify_reply_to", args=[token]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.reply_to_verified


def test_the_account_address_needs_no_second_link(client, user, smtp_server):
    client.force_login(user)
    client.post(reverse("accounts:sender"), {"sender_name": "", "reply_to_email": user.email})
    user.refresh_from_db()
    assert user.reply_to_verified
    assert smtp_server.messages == []


def test_a_sender_name_with_address_characters_is_refused(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:sender"), {"sender_name": 'Evil" <x@y>', "reply_to_email": ""})
    assert response.status_code == 200
    assert "sender_name" in response.context["form"].errors
