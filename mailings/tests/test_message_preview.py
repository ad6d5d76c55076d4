"""The message screens: placeholders checked on save, the preview, a test to myself."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from mailings.models import Attempt, Message, Run
from mailings.services import TEST_SEND_KEY_PREFIX
from mailings.tests.factories import ClientFactory, MailingFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle_keys_from_other_tests():
    """The database cache is rolled back with each test; Redis outlives it."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern(TEST_SEND_KEY_PREFIX + "*")
    yield
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern(TEST_SEND_KEY_PREFIX + "*")


def test_an_unknown_placeholder_is_a_field_error_and_nothing_is_saved(user_client, user):
    response = user_client.post(
        reverse("mailings:message_create"), {"subject": "Hi", "body_format": "markdown", "body": "Hi {{ nick }}"}
    )
    assert response.status_code == 200
    assert "Unknown placeholder" in str(response.context["form"].errors["body"])
    assert not Message.objects.filter(owner=user).exists()


def test_the_live_preview_renders_both_parts_for_the_picked_client(user_client, user):
    client = ClientFactory(owner=user, full_name="<b>Zoë</b> Smith")
    data = {"subject": "S", "body_format": "markdown", "body": "**Hi {{ first_name }}**", "preview_client": client.pk}
    html = user_client.post(reverse("mailings:message_render_draft") + "?part=html", data)
    assert "<strong>Hi &lt;b&gt;Zoë&lt;/b&gt;</strong>" in html.content.decode()
    assert "sandbox" in html["Content-Security-Policy"]
    assert "script-src" not in html["Content-Security-Policy"]
    text = user_client.post(reverse("mailings:message_render_draft") + "?part=text", data).content.decode()
    assert "**Hi &lt;b&gt;Zoë&lt;/b&gt;**" in text  # the text part, HTML-escaped for the frame


def test_the_preview_shows_placeholder_errors_and_ignores_other_owners_clients(user_client, user, other_user):
    stranger = ClientFactory(owner=other_user, full_name="Secret Person")
    data = {"subject": "S", "body": "Hi {{ full_name }} {{ oops }}", "preview_client": stranger.pk}
    page = user_client.post(reverse("mailings:message_render_draft") + "?part=html", data).content.decode()
    assert "Unknown placeholder" in page
    assert "Secret Person" not in page


def test_the_saved_message_page_frames_its_preview(user_client, user):
    message = MessageFactory(owner=user, body="Hello {{ email }}")
    client = ClientFactory(owner=user)
    page = user_client.get(reverse("mailings:message_preview", args=[message.pk]) + f"?preview_client={client.pk}")
    assert 'sandbox=""' in page.content.decode()
    frame = user_client.get(reverse("mailings:message_render", args=[message.pk]) + f"?client={client.pk}")
    assert f"Hello {client.email}" in frame.content.decode()


def test_send_a_test_to_myself_goes_to_my_address_and_into_no_report(
    user_client, user, smtp_server, django_capture_on_commit_callbacks
):
    message = MessageFactory(owner=user, subject="Spring", body="Hi {{ full_name }}")
    client = ClientFactory(owner=user, full_name="Ann Lee")
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("mailings:message_send_test", args=[message.pk]), {"preview_client": client.pk})
    assert smtp_server.handler.recipients == [user.email]
    mail = smtp_server.messages[0]
    assert "Spring" in mail["Subject"]
    assert "Hi Ann Lee" in mail.get_body(("plain",)).get_content()
    assert "Hi Ann Lee" in mail.get_body(("html",)).get_content()
    assert not Run.objects.exists()
    assert not Attempt.objects.exists()
    # A second test at once is throttled.
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("mailings:message_send_test", args=[message.pk]))
    assert len(smtp_server.messages) == 1


def test_send_a_test_from_the_mailing_screen(user_client, user, smtp_server, django_capture_on_commit_callbacks):
    client = ClientFactory(owner=user, full_name="Bo Diaz")
    mailing = MailingFactory(owner=user, clients=[client], message__body="Dear {{ first_name }}")
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(reverse("mailings:mailing_send_test", args=[mailing.pk]))
    assert response.status_code == 302
    assert smtp_server.handler.recipients == [user.email]
    assert "Dear Bo" in smtp_server.messages[0].get_body(("plain",)).get_content()


def test_no_test_for_a_message_that_is_not_mine(other_client, user):
    message = MessageFactory(owner=user)
    assert other_client.post(reverse("mailings:message_send_test", args=[message.pk])).status_code == 404
