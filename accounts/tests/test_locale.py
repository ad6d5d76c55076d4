"""Each user's language and time zone: the switch, the profile, Wagtail's profile in
step, emails in the recipient's language, times in the viewer's zone."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from wagtail.users.models import UserProfile

from accounts.models import User
from accounts.services import user_locale_set
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import body_of, messages_of
from mailings.tests.factories import MailingFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-Strong-passw0rd!"
COOKIE = settings.LANGUAGE_COOKIE_NAME


def switch(client, language, next_url="/"):
    return client.post(reverse("accounts:set_language"), {"language": language, "next": next_url})


def test_the_switch_sets_the_cookie_and_sends_the_page_in_the_new_language(client):
    response = switch(client, "ru", "/en/blog/")
    assert response.status_code == 302
    assert response["Location"] == "/ru/blog/"
    assert response.cookies[COOKIE].value == "ru"
    html = client.get(reverse("accounts:login"), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="ru">' in html


def test_the_switch_ignores_unknown_languages_and_needs_post(client):
    assert client.get(reverse("accounts:set_language")).status_code == 405
    response = switch(client, "fr")
    assert COOKIE not in response.cookies


def test_a_logged_in_users_choice_is_kept_on_the_profile_and_in_wagtail(user_client, user):
    switch(user_client, "ru", "/app/")
    user.refresh_from_db()
    assert user.language == "ru"
    assert UserProfile.get_for_user(user).preferred_language == "ru"
    # Another browser, English cookie and Accept-Language: the profile wins.
    user_client.cookies[COOKIE] = "en"
    response = user_client.get("/app/", headers={"accept-language": "en"})
    assert '<html lang="ru">' in response.content.decode()
    assert response.cookies[COOKIE].value == "ru"
    # A page URL's prefix still decides the page's language.
    assert '<html lang="en">' in user_client.get("/en/").content.decode()


def test_the_wagtail_admin_speaks_the_users_language(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    user_locale_set(user=admin, language="ru", time_zone="Asia/Tokyo")
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert 'lang="ru"' in html
    profile = UserProfile.get_for_user(admin)
    assert (profile.preferred_language, profile.current_time_zone) == ("ru", "Asia/Tokyo")


def test_the_profile_edits_language_and_time_zone_and_refuses_unknown_zones(user_client, user):
    data = {"first_name": "A", "last_name": "B", "company": "", "phone": "", "language": "ru"}
    response = user_client.post(reverse("accounts:profile"), {**data, "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    response = user_client.post(reverse("accounts:profile"), {**data, "time_zone": "America/New_York"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("ru", "America/New_York")
    assert UserProfile.get_for_user(user).current_time_zone == "America/New_York"
    assert messages_of(user_client.get(reverse("accounts:profile"))) == ["Профиль сохранён."]


def test_sign_up_in_russian_keeps_the_language_and_the_browsers_zone_and_mails_in_russian(client, smtp_server):
    response = client.post(
        reverse("accounts:signup"),
        {"email": "ivan@example.ru", "password1": PASSWORD, "password2": PASSWORD, "time_zone": "Europe/Moscow"},
        headers={"accept-language": "ru-RU,ru;q=0.9"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="ivan@example.ru")
    assert (user.language, user.time_zone) == ("ru", "Europe/Moscow")
    email = smtp_server.messages[0]
    assert email["Subject"].strip() == "Подтвердите адрес эл. почты в Mailsite"
    assert "Ссылка срабатывает один раз и действует 3 дня." in body_of(email)


def test_emails_follow_the_recipient_not_the_request(client, smtp_server):
    russian = UserFactory(email="olga@example.ru", language="ru")
    # An English visitor asks for Olga's password reset: Olga reads it in Russian.
    client.post(reverse("accounts:password_reset"), {"email": russian.email}, headers={"accept-language": "en"})
    assert smtp_server.messages[0]["Subject"].strip() == "Сброс пароля в Mailsite"
    english = UserFactory(email="john@example.com", language="en")
    client.post(reverse("accounts:password_reset"), {"email": english.email}, headers={"accept-language": "ru"})
    assert smtp_server.messages[1]["Subject"] == "Reset your Mailsite password"


def test_times_are_shown_in_the_viewers_zone_in_one_format(client):
    tokyo = UserFactory(language="en", time_zone="Asia/Tokyo")
    moscow = UserFactory(language="ru", time_zone="Europe/Moscow")
    start = datetime(2027, 1, 15, 6, 0, tzinfo=UTC)
    for owner in (tokyo, moscow):
        MailingFactory(owner=owner, start_at=start, end_at=datetime(2027, 2, 1, tzinfo=UTC))
    client.force_login(tokyo)
    html = client.get(reverse("mailings:mailing_list")).content.decode()
    assert "15 Jan 2027, 15:00 JST" in html
    assert "Asia/Tokyo" in html  # the footer names the zone
    client.force_login(moscow)
    html = client.get(reverse("mailings:mailing_list")).content.decode()
    assert "15.01.2027 09:00 MSK" in html


def test_a_change_in_wagtails_own_preferences_comes_back_to_the_profile(user):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "ru"
    profile.current_time_zone = "Asia/Yekaterinburg"
    profile.save()
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("ru", "Asia/Yekaterinburg")


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
    ],
)
def test_the_switch_refuses_other_sites(client, headers):
    response = client.post(reverse("accounts:set_language"), {"language": "ru", "next": "/"}, headers=headers)
    assert response.status_code == 403
    assert COOKIE not in response.cookies


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "same-origin", "origin": "http://testserver"},
        {"sec-fetch-site": "none"},
        {"origin": "http://testserver"},
        {"sec-fetch-site": "cross-site", "origin": "https://www.example.com"},  # trusted
        {},  # no browser: no visitor's cookies to abuse
    ],
)
def test_the_switch_needs_no_token_from_this_site(settings, headers):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:set_language"), {"language": "ru", "next": "/"}, headers=headers)
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "ru"
