"""Nothing is lost when the broker is down (issue 11, item 7).

django-q2 points at a Redis where nothing listens: sign-up, password reset
and a new mailing answer as usual, and what they promised waits in the
database (the email outbox, the mailing's next_run_at) until a worker runs
the minute schedules. The service test in tests/test_service_redis_outage.py
does the same with real processes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from accounts.tests.factories import UserFactory
from core.emails import deliver_outgoing_emails
from core.models import OutgoingEmail
from core.testing.smtp import closed_port
from mailings import engine
from mailings.models import Mailing, Run
from mailings.tests.factories import ClientFactory, MessageFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Outage-passw0rd!"


@pytest.fixture
def dead_broker(monkeypatch):
    """django-q2 on a Redis that is not there."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{closed_port()}/0")


def broker_back(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)  # tasks run here, as a worker would run them


def test_signup_and_reset_answer_and_their_emails_wait_in_the_outbox(
    client, dead_broker, django_capture_on_commit_callbacks, smtp_server, monkeypatch
):
    existing = UserFactory(email="existing@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        signup = client.post(
            reverse("accounts:signup"),
            {"email": "outage@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
        reset = client.post(reverse("accounts:password_reset"), {"email": existing.email})
    assert signup.status_code == 302
    assert reset.status_code == 302
    waiting = OutgoingEmail.objects.filter(state=OutgoingEmail.State.PENDING, tries=0)
    assert sorted(waiting.values_list("to", flat=True)) == ["existing@example.org", "outage@example.org"]
    assert smtp_server.messages == []

    broker_back(monkeypatch)
    assert deliver_outgoing_emails()["sent"] == 2  # the minute schedule's task
    assert sorted(str(m["To"]) for m in smtp_server.messages) == ["existing@example.org", "outage@example.org"]


def test_a_new_mailing_answers_and_the_dispatcher_sends_it_later(
    user_client, user, dead_broker, django_capture_on_commit_callbacks, smtp_server, monkeypatch
):
    client = ClientFactory(owner=user)
    message = MessageFactory(owner=user)
    start = timezone.localtime()
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            reverse("mailings:mailing_create"),
            {
                "message": message.pk,
                "clients": [client.pk],
                "start_at": f"{start:%Y-%m-%dT%H:%M}",
                "end_at": f"{start + timedelta(days=1):%Y-%m-%dT%H:%M}",
                "periodicity": "once",
            },
        )
    assert response.status_code == 302
    mailing = Mailing.objects.get(message=message)
    assert mailing.next_run_at is not None
    assert not Run.objects.filter(mailing=mailing).exists()

    broker_back(monkeypatch)
    engine.dispatch_due()  # the minute schedule's task
    run = Run.objects.get(mailing=mailing)
    assert run.sent_count == 1
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [client.email]
