"""Sign-up, the verification link and re-sending it."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import body_of, link_in, messages_of
from accounts.tokens import make_verification_token

pytestmark = pytest.mark.django_db
PASSWORD = "a-Strong-passw0rd!"


def sign_up(client, email="new.person@example.com", password=PASSWORD):
    return client.post(reverse("accounts:signup"), {"email": email, "password1": password, "password2": password})


def test_signup_sends_exactly_one_email_whose_link_verifies_and_logs_in(client, smtp_server):
    response = sign_up(client, email="  New.Person@Example.COM ")
    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    user = User.objects.get(email="new.person@example.com")
    assert not user.is_verified
    assert user.check_password(PASSWORD)
    assert SESSION_KEY not in client.session

    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == "new.person@example.com"
    assert "Confirm your email address" in email["Subject"]
    assert "expires in 3 days" in body_of(email)

    response = client.get(link_in(email))
    assert response.status_code == 302
    assert response.url == reverse("mailings:dashboard")
    user.refresh_from_db()
    assert user.is_verified
    response = client.get(reverse("mailings:dashboard"))
    assert response.status_code == 200
    assert response.context["user"] == user
    assert len(smtp_server.messages) == 1


def test_signup_page_shows_errors_next_to_their_fields(client):
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 200
    response = sign_up(client, email="not-an-email", password="123")
    assert response.status_code == 200
    form = response.context["form"]
    assert "email" in form.errors
    assert "password1" in form.errors  # Django's validators: too short, too common, numeric
    assert 'id="id_email"' in (page := response.content.decode())
    assert page.count("invalid-feedback") >= 2
    assert not User.objects.exists()


def test_signup_with_different_passwords_is_refused(client):
    response = client.post(
        reverse("accounts:signup"),
        {"email": "a@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()


def test_signup_with_a_registered_address_answers_the_same_and_mails_the_owner(client, smtp_server):
    owner = UserFactory(email="taken@example.com")
    response = sign_up(client, email="taken@example.com", password="An0ther-passw0rd")
    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    assert User.objects.filter(email="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(DEFAULT_PASSWORD)
    assert len(smtp_server.messages) == 1
    assert "already have a Mailsite account" in smtp_server.messages[0]["Subject"]


def test_login_is_refused_before_verification_with_the_resend_option(client, smtp_server):
    sign_up(client)
    response = client.post(reverse("accounts:login"), {"username": "new.person@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    page = response.content.decode()
    assert "Please verify your email address first" in page
    assert reverse("accounts:resend_verification") + "?email=new.person%40example.com" in page


def test_an_expired_link_shows_the_new_link_form_and_verifies_nothing(client, smtp_server, settings):
    sign_up(client)
    link = link_in(smtp_server.messages[0])
    later = timezone.now() + timedelta(seconds=settings.ACCOUNT_VERIFICATION_MAX_AGE + 60)
    with time_machine.travel(later, tick=False):
        response = client.get(link)
    assert response.status_code == 400
    assert response.context["reason"] == "expired"
    assert "The link has expired." in response.content.decode()
    assert 'action="{}"'.format(reverse("accounts:resend_verification")) in response.content.decode()
    assert not User.objects.get().is_verified
    assert SESSION_KEY not in client.session


def test_a_link_just_inside_its_lifetime_still_works(client, smtp_server, settings):
    sign_up(client)
    link = link_in(smtp_server.messages[0])
    later = timezone.now() + timedelta(seconds=settings.ACCOUNT_VERIFICATION_MAX_AGE - 60)
    with time_machine.travel(later, tick=False):
        response = client.get(link)
    assert response.status_code == 302
    assert User.objects.get().is_verified


def test_a_tampered_link_is_refused(client, smtp_server):
    sign_up(client)
    link = link_in(smtp_server.messages[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Point the token at another user: the signature no longer matches.
    other = UserFactory(is_verified=False)
    forged = token.replace(token[0], "e" if token[0] != "e" else "f", 1)
    for bad in (forged, token[:-2], "nonsense"):
        response = client.get(reverse("accounts:verify", args=[bad]))
        assert response.status_code == 400
        assert response.context["reason"] == "invalid"
    assert not User.objects.filter(is_verified=True).exists()
    assert not other.is_verified
    assert SESSION_KEY not in client.session


def test_a_used_link_does_not_work_again(client, smtp_server):
    sign_up(client)
    link = link_in(smtp_server.messages[0])
    assert client.get(link).status_code == 302
    client.post(reverse("accounts:logout"))
    response = client.get(link)
    assert response.status_code == 400
    assert response.context["reason"] == "used"
    assert SESSION_KEY not in client.session


def test_a_newer_link_is_independent_of_an_older_unused_one(client, smtp_server):
    """Both links name the same state, so either works once; after that, neither."""
    user = UserFactory(is_verified=False)
    first = make_verification_token(user)
    second = make_verification_token(user)
    assert client.get(reverse("accounts:verify", args=[second])).status_code == 302
    assert client.get(reverse("accounts:verify", args=[first])).status_code == 400


def test_resend_is_throttled_per_address_and_never_reveals_registration(client, smtp_server, settings):
    settings.ACCOUNT_RESEND_THROTTLE_SECONDS = 1
    UserFactory(email="waiting@example.com", is_verified=False)
    url = reverse("accounts:resend_verification")

    def resend(email):
        response = client.post(url, {"email": email}, follow=True)
        assert response.status_code == 200
        return [m.replace(email, "EMAIL") for m in messages_of(response)]

    registered = resend("waiting@example.com")
    unregistered = resend("nobody@example.com")
    assert registered == unregistered
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "waiting@example.com"

    # Within the throttle window: the same "wait" answer for both, no mail.
    registered_again = resend("waiting@example.com")
    unregistered_again = resend("nobody@example.com")
    assert registered_again == unregistered_again
    assert registered_again != registered
    assert "wait a minute" in registered_again[0]
    assert len(smtp_server.messages) == 1

    # The throttle lives in the shared cache with an expiry; wait it out for real (Redis
    # keeps its own clock). The database cache stores expiry in whole seconds, hence 2 s.
    time.sleep(2.1)
    assert resend("waiting@example.com") == registered
    assert len(smtp_server.messages) == 2
    # The new link verifies.
    assert client.get(link_in(smtp_server.messages[1])).status_code == 302


def test_resend_sends_nothing_to_verified_or_blocked_accounts(client, smtp_server):
    UserFactory(email="verified@example.com")
    UserFactory(email="blocked@example.com", is_verified=False, is_blocked=True)
    for email in ("verified@example.com", "blocked@example.com"):
        client.post(reverse("accounts:resend_verification"), {"email": email})
    assert smtp_server.messages == []


def test_the_signup_mail_starts_the_resend_clock(client, smtp_server):
    sign_up(client)
    response = client.post(reverse("accounts:resend_verification"), {"email": "new.person@example.com"}, follow=True)
    assert "wait a minute" in messages_of(response)[0]
    assert len(smtp_server.messages) == 1


def test_verification_link_of_a_blocked_user_does_not_log_in(client, smtp_server):
    sign_up(client)
    User.objects.update(is_blocked=True)
    response = client.get(link_in(smtp_server.messages[0]))
    assert response.status_code == 403
    assert "Your account is blocked" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_signup_done_page_offers_the_resend_form(client, smtp_server):
    sign_up(client)
    response = client.get(reverse("accounts:signup_done"))
    page = response.content.decode()
    assert "new.person@example.com" in page
    assert reverse("accounts:resend_verification") in page


def test_logged_in_users_are_sent_from_signup_to_the_dashboard(user_client):
    response = user_client.get(reverse("accounts:signup"))
    assert response.status_code == 302
    assert response.url == reverse("mailings:dashboard")


def test_a_head_request_from_a_link_checker_does_not_use_the_link(client, smtp_server):
    sign_up(client)
    link = link_in(smtp_server.messages[0])
    assert client.head(link).status_code == 405
    assert not User.objects.get().is_verified
    assert client.get(link).status_code == 302


def test_the_request_only_queues_the_email_and_a_worker_sends_it(
    client, smtp_server, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", False)
    broker = get_broker()
    broker.purge_queue()
    with django_capture_on_commit_callbacks(execute=True):  # the wake-up goes out when the sign-up commits
        sign_up(client)
    assert smtp_server.messages == []
    assert broker.queue_size() == 1
    ((task_id, package),) = broker.dequeue()
    broker.acknowledge(task_id)
    task = SignedPackage.loads(package)
    func = import_string(task["func"]) if isinstance(task["func"], str) else task["func"]
    func(*task["args"], **task["kwargs"])  # what a qcluster worker does
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "new.person@example.com"
