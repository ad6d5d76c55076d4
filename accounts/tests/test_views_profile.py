"""The profile page: names, company, phone, avatar; the email changed only by re-verification."""

import io

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import body_of, link_in

pytestmark = pytest.mark.django_db


def picture(fmt="PNG", size=(32, 32), name="me.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def profile_data(**overrides):
    return {"first_name": "Ada", "last_name": "Lovelace", "company": "Engines Ltd", "phone": "+44 20 7946 0000"} | (
        overrides
    )


def test_profile_shows_the_email_and_saves_the_fields(user_client, user):
    url = reverse("accounts:profile")
    response = user_client.get(url)
    assert response.status_code == 200
    assert user.email in response.content.decode()
    assert "email" not in response.context["form"].fields

    response = user_client.post(url, profile_data(email="hijack@example.com"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.company, user.phone) == (
        "Ada",
        "Lovelace",
        "Engines Ltd",
        "+44 20 7946 0000",
    )
    assert user.get_full_name() == "Ada Lovelace"
    assert user.email != "hijack@example.com"


def test_avatar_upload_replace_and_clear(user_client, user, django_capture_on_commit_callbacks):
    url = reverse("accounts:profile")
    storage = User._meta.get_field("avatar").storage
    assert user_client.post(url, profile_data(avatar=picture())).status_code == 302
    user.refresh_from_db()
    first = user.avatar.name
    assert first.startswith("avatars/")
    assert storage.exists(first)
    assert user.avatar.url in user_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.post(url, profile_data(avatar=picture("JPEG", name="me.jpg"))).status_code == 302
    user.refresh_from_db()
    assert user.avatar.name != first
    assert not storage.exists(first)  # the old file went

    second = user.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.post(url, profile_data(**{"avatar-clear": "on"})).status_code == 302
    user.refresh_from_db()
    assert not user.avatar
    assert not storage.exists(second)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png"), "valid image"),
        (SimpleUploadedFile("doc.png", b"%PDF-1.4 not a picture", content_type="image/png"), "valid image"),
    ],
)
def test_avatar_that_is_not_an_image_is_refused(user_client, user, upload, message):
    response = user_client.post(reverse("accounts:profile"), profile_data(avatar=upload))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["avatar"])
    user.refresh_from_db()
    assert not user.avatar


def test_avatar_over_the_size_limit_is_refused(user_client, user, settings):
    big = picture(size=(400, 400))
    settings.AVATAR_MAX_BYTES = big.size - 1
    response = user_client.post(reverse("accounts:profile"), profile_data(avatar=big))
    assert response.status_code == 200
    assert "the limit is" in response.context["form"].errors["avatar"][0]
    user.refresh_from_db()
    assert not user.avatar
    assert user.first_name != "Ada"


def test_avatar_in_a_format_we_do_not_show_is_refused(user_client, user):
    response = user_client.post(reverse("accounts:profile"), profile_data(avatar=picture("TIFF", name="me.tiff")))
    assert response.status_code == 200
    assert "JPEG, PNG, GIF or WebP" in response.context["form"].errors["avatar"][0]


def test_email_change_applies_only_when_the_new_address_opens_its_link(user_client, user, smtp_server):
    old_email = user.email
    response = user_client.post(
        reverse("accounts:email_change"), {"new_email": "New.Address@Example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == old_email
    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == "new.address@example.com"
    assert old_email in body_of(email)

    response = user_client.get(link_in(email))
    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")
    user.refresh_from_db()
    assert user.email == "new.address@example.com"
    assert user.is_verified
    # The old address is told.
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1]["To"] == old_email
    # The link worked once.
    assert user_client.get(link_in(email)).status_code == 400
    # And the new address logs in.
    user_client.post(reverse("accounts:logout"))
    response = user_client.post(
        reverse("accounts:login"), {"username": "new.address@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


def test_email_change_needs_the_password(user_client, user, smtp_server):
    response = user_client.post(reverse("accounts:email_change"), {"new_email": "x@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    assert smtp_server.messages == []


def test_email_change_to_a_taken_address_reveals_nothing_and_changes_nothing(user_client, user, smtp_server):
    taken = UserFactory(email="taken@example.com")
    response = user_client.post(
        reverse("accounts:email_change"), {"new_email": taken.email, "password": DEFAULT_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert "We sent a link to taken@example.com" in response.content.decode()
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "taken@example.com"
    assert "already used" in smtp_server.messages[0]["Subject"]
    assert "http" in body_of(smtp_server.messages[0])
    user.refresh_from_db()
    assert user.email != taken.email


def test_an_email_change_link_fails_if_the_address_was_taken_meanwhile(user_client, user, smtp_server):
    user_client.post(reverse("accounts:email_change"), {"new_email": "race@example.com", "password": DEFAULT_PASSWORD})
    UserFactory(email="race@example.com")
    response = user_client.get(link_in(smtp_server.messages[0]))
    assert response.status_code == 400
    assert response.context["reason"] == "taken"
    user.refresh_from_db()
    assert user.email != "race@example.com"


def test_profile_needs_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert SESSION_KEY not in client.session
