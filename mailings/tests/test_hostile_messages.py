"""Hostile messages and recipients (issue 11, item 8): refused at their source."""

import pytest
from django.urls import reverse

from mailings.models import Message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("subject", ["Hello\r\nBcc: all@example.org", "Line one\nline two", "Carriage\rreturn"])
def test_a_subject_with_a_line_break_is_a_field_error(user_client, subject):
    response = user_client.post(reverse("mailings:message_create"), {"subject": subject, "body": "Body"})
    assert response.status_code == 200
    assert "The subject must be a single line." in response.content.decode()
    assert not Message.objects.exists()
