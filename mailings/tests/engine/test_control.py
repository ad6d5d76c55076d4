"""Pause, resume and cancel against a real SMTP server, the daily quota and
the site-wide rate limits: nobody is sent twice, nobody is lost.

The runs are driven in-process: a chunk's progress callback is where the owner
"clicks" (between two messages, as a request would land), and
MAILINGS_CHECK_SECONDS=0 makes the chunk look at its run before every message.
"""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from mailings import engine, services, transitions
from mailings.models import Delivery, DeliveryState, MailingStatus, RateCounter, RunStatus
from mailings.tests.factories import ClientFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_limiter(settings):
    """Counters in this test's database (Redis keys would outlive the test)."""
    settings.REDIS_URL = ""
    settings.MAILINGS_CHECK_SECONDS = 0


def make_mailing(user, n):
    clients = [ClientFactory(owner=user, email=f"c{i:03d}@example.org") for i in range(n)]
    start = timezone.now() - timedelta(minutes=1)
    mailing = MailingFactory(owner=user, start_at=start, end_at=start + timedelta(days=1), clients=clients)
    return mailing, clients


def start(mailing):
    engine.reschedule(mailing.pk, start_now=False)
    run = engine.start_due_run(mailing.pk, enqueue=False)
    assert run is not None
    return run


def after(n, action):
    """A progress callback that runs `action` once, after the n-th message."""
    seen = []

    def progress(step):
        seen.append(step)
        if len(seen) == n:
            action()

    return progress


def received(smtp_server):
    return Counter(smtp_server.handler.recipients)


def states(run):
    return Counter(Delivery.objects.filter(run=run).values_list("state", flat=True))


def test_pause_gives_the_rest_back_and_resume_sends_everyone_exactly_once(smtp_server, user):
    mailing, clients = make_mailing(user, 10)
    run = start(mailing)

    result = engine.send_chunk(run.pk, progress=after(3, lambda: services.mailing_pause(mailing=mailing)))

    assert result.paused
    run.refresh_from_db()
    mailing.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    assert mailing.status == MailingStatus.PAUSED
    assert states(run) == {DeliveryState.SENT: 3, DeliveryState.PENDING: 7}  # claims released
    assert transitions.owner_actions(mailing) == [transitions.OwnerAction.RESUME, transitions.OwnerAction.CANCEL]
    # A chunk that arrives while paused leaves the run alone.
    assert engine.send_chunk(run.pk).claimed == 0

    services.mailing_resume(mailing=mailing)  # chunks run in-process (django-q2 sync in tests)

    run.refresh_from_db()
    mailing.refresh_from_db()
    assert run.status == RunStatus.FINISHED
    assert (run.sent_count, run.failed_count) == (10, 0)
    assert mailing.status == MailingStatus.COMPLETED
    assert received(smtp_server) == Counter({c.email: 1 for c in clients})


def test_cancel_records_the_rest_as_not_sent_and_nothing_starts_again(smtp_server, user):
    mailing, _clients = make_mailing(user, 8)
    run = start(mailing)

    result = engine.send_chunk(run.pk, progress=after(2, lambda: services.mailing_cancel(mailing=mailing)))

    assert result.stopped
    run.refresh_from_db()
    mailing.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.stop_reason == "Cancelled by the owner."
    assert (run.sent_count, run.skipped_count) == (2, 6)
    skipped = Delivery.objects.filter(run=run, state=DeliveryState.SKIPPED)
    assert set(skipped.values_list("last_reply", flat=True)) == {"Cancelled by the owner."}
    assert mailing.status == MailingStatus.CANCELLED
    assert mailing.next_run_at is None
    assert transitions.owner_actions(mailing) == []
    assert sum(received(smtp_server).values()) == 2
    assert engine.dispatch_due()["started"] == []


def test_a_paused_mailing_can_be_cancelled(smtp_server, user):
    mailing, _clients = make_mailing(user, 4)
    run = start(mailing)
    engine.send_chunk(run.pk, progress=after(1, lambda: services.mailing_pause(mailing=mailing)))
    services.mailing_cancel(mailing=mailing)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert states(run) == {DeliveryState.SENT: 1, DeliveryState.SKIPPED: 3}


def test_a_managers_disable_wins_over_the_owner(smtp_server, user, manager):
    mailing, _clients = make_mailing(user, 4)
    run = start(mailing)
    engine.send_chunk(run.pk, progress=after(1, lambda: services.mailing_pause(mailing=mailing)))
    services.mailing_disable(mailing=mailing, by=manager, reason="Spam")
    engine.stop_runs_if_not_runnable(mailing.pk)
    mailing.refresh_from_db()
    assert transitions.owner_actions(mailing) == []
    with pytest.raises(transitions.TransitionError, match="only a manager"):
        services.mailing_resume(mailing=mailing)
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED


def test_start_now_starts_a_future_mailing_and_keeps_its_end(smtp_server, user, django_capture_on_commit_callbacks):
    mailing = MailingFactory(owner=user, clients=[ClientFactory(owner=user)])
    end = mailing.end_at
    assert transitions.owner_actions(mailing) == [transitions.OwnerAction.START_NOW, transitions.OwnerAction.CANCEL]
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start_now(mailing=mailing)
    mailing.refresh_from_db()
    assert mailing.end_at == end
    assert mailing.status == MailingStatus.COMPLETED
    assert len(smtp_server.messages) == 1


def continues_by_itself(run, key, *, at):
    """The minute dispatcher leaves the run alone until `at`, then it finishes."""
    assert engine.dispatch_due()[key] == []
    with time_machine.travel(at, tick=True):
        assert engine.dispatch_due()[key] == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED


# Mid-day and mid-hour: the run never straddles a midnight or an hour by chance.
@time_machine.travel(datetime(2031, 3, 10, 12, 20, tzinfo=ZoneInfo("Europe/London")), tick=True)
def test_the_daily_quota_pauses_the_run_until_the_owners_next_day(smtp_server, user):
    user.daily_quota = 4
    user.save()
    mailing, clients = make_mailing(user, 7)
    run = start(mailing)

    engine.send_run_inline(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    assert "daily quota of 4 messages" in run.pause_reason
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    assert run.paused_until == midnight
    assert states(run) == {DeliveryState.SENT: 4, DeliveryState.PENDING: 3}
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.RUNNING  # not paused by its owner
    continues_by_itself(run, "unpaused", at=midnight + timedelta(seconds=5))
    assert received(smtp_server) == Counter({c.email: 1 for c in clients})


@time_machine.travel(datetime(2031, 3, 10, 12, 20, tzinfo=ZoneInfo("Europe/London")), tick=True)
def test_an_hourly_limit_makes_the_run_wait_and_continue_by_itself(smtp_server, user, settings):
    settings.MAILINGS_RATE_PER_HOUR = 3
    mailing, clients = make_mailing(user, 5)
    run = start(mailing)

    engine.send_run_inline(run.pk)

    run.refresh_from_db()
    next_hour = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert run.status == RunStatus.SENDING
    assert run.waiting_until == next_hour
    assert states(run) == {DeliveryState.SENT: 3, DeliveryState.PENDING: 2}
    continues_by_itself(run, "revived", at=next_hour + timedelta(seconds=settings.MAILINGS_RUN_IDLE_SECONDS + 1))
    assert run.waiting_until is None
    assert received(smtp_server) == Counter({c.email: 1 for c in clients})


def test_a_per_second_limit_spreads_the_run_over_seconds(smtp_server, user, settings):
    settings.MAILINGS_RATE_PER_SECOND = 4
    mailing, clients = make_mailing(user, 10)
    run = start(mailing)

    engine.send_run_inline(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED
    assert received(smtp_server) == Counter({c.email: 1 for c in clients})
    windows = dict(RateCounter.objects.filter(key__startswith="rate:s:").values_list("key", "count"))
    assert sum(windows.values()) == 10
    assert max(windows.values()) <= 4
    assert len(windows) >= 3


def test_a_turn_sees_a_pause_between_two_claims(smtp_server, user, settings):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_CHECK_SECONDS = 3600  # only the check between claims can see it
    mailing, clients = make_mailing(user, 7)
    run = start(mailing)

    result = engine.send_chunk(run.pk, progress=after(3, lambda: services.mailing_pause(mailing=mailing)))

    assert result.paused
    assert (result.claimed, result.sent) == (4, 4)  # the second chunk was finished, no third was claimed
    assert states(run) == {DeliveryState.SENT: 4, DeliveryState.PENDING: 3}

    services.mailing_resume(mailing=mailing)

    assert received(smtp_server) == Counter({c.email: 1 for c in clients})


def test_a_turn_sees_a_cancel_between_two_claims(smtp_server, user, settings):
    settings.MAILINGS_CHUNK_SIZE = 2
    settings.MAILINGS_CHECK_SECONDS = 3600
    mailing, _clients = make_mailing(user, 7)
    run = start(mailing)

    result = engine.send_chunk(run.pk, progress=after(1, lambda: services.mailing_cancel(mailing=mailing)))

    assert result.stopped
    assert (result.claimed, result.sent) == (2, 2)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert len(smtp_server.messages) == 2
