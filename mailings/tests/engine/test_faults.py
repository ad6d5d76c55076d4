"""Every mail-server fault mode, against a real aiosmtpd server: what is
recorded on the attempts, who is retried and when, that the others are
delivered and that nothing escapes a task."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.testing.smtp import closed_port
from mailings import engine
from mailings.models import Attempt, AttemptStatus, Delivery, DeliveryState, Run, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db

EMAILS = ["a@example.org", "b@example.org", "c@example.org"]


@pytest.fixture
def mailing(user):
    clients = [ClientFactory(owner=user, email=email) for email in EMAILS]
    start = timezone.now() - timedelta(minutes=1)
    return MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=3), clients=clients)


def start(mailing):
    engine.replan_mailing(mailing)  # django-q2 runs the tasks in-process: an exception would fail the test
    return Run.objects.get(mailing=mailing)


def attempts_of(run, email):
    return list(Attempt.objects.filter(run=run, email=email).order_by("attempted_at", "pk"))


def delivery(run, email):
    return Delivery.objects.get(run=run, email=email)


def assert_retry_in_about(d, seconds):
    low = timezone.now() + timedelta(seconds=seconds * 0.8 - 5)
    high = timezone.now() + timedelta(seconds=seconds * 1.2 + 5)
    assert d.state == DeliveryState.RETRY
    assert low <= d.next_try_at <= high


def test_accept(smtp_server, mailing):
    run = start(mailing)
    assert sorted(smtp_server.handler.recipients) == EMAILS
    assert run.status == RunStatus.FINISHED
    assert Attempt.objects.filter(run=run, status=AttemptStatus.SUCCESS, smtp_code=250).count() == 3


def test_rcpt_451_is_retried_later_and_the_others_are_delivered(smtp_server, mailing):
    smtp_server.fault("rcpt_451", match=["b@example.org"], times=1)

    run = start(mailing)

    assert sorted(smtp_server.handler.recipients) == ["a@example.org", "c@example.org"]
    (failed,) = attempts_of(run, "b@example.org")
    assert (failed.status, failed.is_temporary, failed.smtp_code) == (AttemptStatus.FAILED, True, 451)
    assert "RCPT" in failed.server_reply
    assert "try again later" in failed.server_reply
    b = delivery(run, "b@example.org")
    assert_retry_in_about(b, 60)
    assert b.tries == 1
    assert run.status == RunStatus.SENDING

    # Not before its time...
    assert engine.dispatch_due()["revived"] == []
    # ...and once its time came, the dispatcher sends it.
    with time_machine.travel(b.next_try_at + timedelta(seconds=61), tick=True):
        engine.dispatch_due()
    assert sorted(smtp_server.handler.recipients) == EMAILS
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 3, 0)
    assert [a.status for a in attempts_of(run, "b@example.org")] == ["failed", "success"]


def test_temporary_failures_stop_after_max_tries(smtp_server, mailing, settings):
    settings.MAILINGS_MAX_TRIES = 2
    smtp_server.fault("rcpt_451", match=["b@example.org"])
    run = start(mailing)
    b = delivery(run, "b@example.org")
    with time_machine.travel(b.next_try_at + timedelta(seconds=61), tick=True):
        engine.dispatch_due()
    b.refresh_from_db()
    assert (b.state, b.tries) == (DeliveryState.FAILED, 2)
    assert [a.smtp_code for a in attempts_of(run, "b@example.org")] == [451, 451]
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 2, 1)


def test_rcpt_550_is_permanent_and_never_retried(smtp_server, mailing):
    smtp_server.fault("rcpt_550", match=["b@example.org"])

    run = start(mailing)

    assert sorted(smtp_server.handler.recipients) == ["a@example.org", "c@example.org"]
    (failed,) = attempts_of(run, "b@example.org")
    assert (failed.status, failed.is_temporary, failed.smtp_code) == (AttemptStatus.FAILED, False, 550)
    assert "No such user" in failed.server_reply
    assert delivery(run, "b@example.org").state == DeliveryState.FAILED
    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 2, 1)
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=True):
        engine.dispatch_due()
    assert len(attempts_of(run, "b@example.org")) == 1


# One fault, once, on one message: that message fails as temporary and is
# retried in about a minute; everyone else is delivered.
# (fault, on whom, fault options, timeout, smtp_code, reply starts with, reply contains, connections or None)
# Connections: the run's two (a and b in the first round, c in the second)
# and one more where the fault cost one; a slow reply costs b's connection,
# but c goes out on a's.
ONE_OFF_FAULTS = [
    pytest.param("data_452", "b", {}, None, 452, "DATA: 452", [], None, id="data-452-is-temporary"),
    pytest.param("connect_421", "a", {}, None, 421, "", ["Service not available"], 3, id="connect-421-then-reconnects"),
    pytest.param(
        "slow", "b", {"delay": 1.5}, 0.5, None, "", ["timed out"], 2, id="slower-than-timeout-replaces-connection"
    ),
    pytest.param(
        "disconnect_data", "a", {}, None, None, "", ["SMTPServerDisconnected"], 3, id="disconnect-during-data"
    ),
    # smtplib drops the first four characters of a garbled line
    pytest.param("garbled", "b", {}, None, None, "", ["garbled reply", "not an SMTP reply"], 3, id="garbled-reply"),
]


@pytest.mark.parametrize(
    ("fault", "who", "options", "timeout", "code", "starts", "contains", "connections"), ONE_OFF_FAULTS
)
def test_a_one_off_fault_fails_that_message_as_temporary_and_the_others_are_delivered(
    smtp_server, mailing, settings, fault, who, options, timeout, code, starts, contains, connections
):
    email = f"{who}@example.org"
    settings.MAILINGS_SMTP_CONNECTIONS = 2
    if timeout is not None:
        settings.EMAIL_TIMEOUT = timeout
    # connect_421 hits whoever is first (a); the others hit their recipient.
    match = {} if fault == "connect_421" else {"match": [email]}
    smtp_server.fault(fault, times=1, **match, **options)
    before = smtp_server.handler.connections

    run = start(mailing)

    others = [e for e in EMAILS if e != email]
    if fault != "slow":  # a slow server may still take the message after the client gave up
        assert sorted(smtp_server.handler.recipients) == others
    for other in others:
        assert attempts_of(run, other)[0].status == AttemptStatus.SUCCESS
    (failed,) = attempts_of(run, email)
    assert (failed.status, failed.is_temporary, failed.smtp_code) == (AttemptStatus.FAILED, True, code)
    assert failed.server_reply.startswith(starts)
    for text in contains:
        assert text in failed.server_reply
    if connections is not None:
        assert smtp_server.handler.connections - before == connections
    assert_retry_in_about(delivery(run, email), 60)


def test_a_server_that_keeps_answering_421_defers_the_run(smtp_server, mailing, settings):
    settings.MAILINGS_MAX_CONNECT_FAILURES = 2
    smtp_server.fault("connect_421")
    run = start(mailing)
    run.refresh_from_db()
    assert run.status == RunStatus.DEFERRED
    assert Attempt.objects.filter(run=run).count() == 2
    assert delivery(run, "c@example.org").state == DeliveryState.PENDING


def test_a_refused_connection_defers_the_run_with_backoff_then_it_resumes(smtp_server, mailing, settings):
    settings.EMAIL_PORT = closed_port()

    run = start(mailing)

    run.refresh_from_db()
    assert run.status == RunStatus.DEFERRED
    assert run.deferred_since is not None
    assert "mail server unavailable since" in run.deferred_notice
    assert timezone.now() + timedelta(seconds=40) <= run.retry_at <= timezone.now() + timedelta(seconds=80)
    (attempt,) = Attempt.objects.filter(run=run)
    assert attempt.is_temporary
    assert "ConnectionRefusedError" in attempt.server_reply
    assert set(Delivery.objects.filter(run=run).values_list("state", "tries")) == {(DeliveryState.PENDING, 0)}

    # Still down at the first retry: the wait doubles.
    with time_machine.travel(run.retry_at + timedelta(seconds=1), tick=False):
        engine.dispatch_due()
        first_since = run.deferred_since
        run.refresh_from_db()
        assert run.status == RunStatus.DEFERRED
        assert run.defer_count == 2
        assert run.deferred_since == first_since
        assert timezone.now() + timedelta(seconds=90) <= run.retry_at <= timezone.now() + timedelta(seconds=150)

    # The server is back.
    settings.EMAIL_PORT = smtp_server.port
    with time_machine.travel(run.retry_at + timedelta(seconds=1), tick=True):
        engine.dispatch_due()
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (RunStatus.FINISHED, 3)
    assert run.deferred_since is None
    assert sorted(smtp_server.handler.recipients) == EMAILS


def test_a_run_deferred_for_too_long_gives_up(smtp_server, mailing, settings):
    settings.EMAIL_PORT = closed_port()
    settings.MAILINGS_DEFER_GIVE_UP_SECONDS = 100
    run = start(mailing)
    with time_machine.travel(timezone.now() + timedelta(seconds=400), tick=False):
        engine.dispatch_due()
    run.refresh_from_db()
    assert (run.status, run.failed_count) == (RunStatus.FINISHED, 3)
    assert "Gave up" in delivery(run, "a@example.org").last_reply


def test_all_fault_modes_at_once_deliver_everyone_else(smtp_server, user, settings):
    settings.EMAIL_TIMEOUT = 0.5
    emails = [f"r{i}@example.org" for i in range(12)]
    clients = [ClientFactory(owner=user, email=email) for email in emails]
    start_at = timezone.now() - timedelta(minutes=1)
    mailing = MailingFactory(owner=user, start_at=start_at, end_at=start_at + timedelta(days=1), clients=clients)
    smtp_server.fault("connect_421", times=1)
    smtp_server.fault("rcpt_451", match=[emails[2]], times=1)
    smtp_server.fault("rcpt_550", match=[emails[3]])
    smtp_server.fault("data_452", match=[emails[4]], times=1)
    smtp_server.fault("disconnect_data", match=[emails[5]], times=1)
    smtp_server.fault("garbled", match=[emails[6]], times=1)
    smtp_server.fault("slow", match=[emails[7]], times=1, delay=1.2)

    run = start(mailing)

    temporary = {emails[0], emails[2], emails[4], emails[5], emails[6], emails[7]}
    assert set(Delivery.objects.filter(run=run, state=DeliveryState.RETRY).values_list("email", flat=True)) == temporary
    assert delivery(run, emails[3]).state == DeliveryState.FAILED
    delivered = set(emails) - temporary - {emails[3]}
    assert set(Delivery.objects.filter(run=run, state=DeliveryState.SENT).values_list("email", flat=True)) == delivered
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=True):
        engine.dispatch_due()
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 11, 1)
    assert Attempt.objects.filter(run=run, status="success").count() == 11
