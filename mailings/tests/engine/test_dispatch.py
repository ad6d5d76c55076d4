"""When mailings run (engine/dispatch.py): the dispatcher and re-planning, with a controlled clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule

from accounts.services import user_block, user_unblock
from core.testing.smtp import closed_port
from mailings import engine
from mailings.models import MailingStatus, Periodicity, Run, RunStatus
from mailings.services import mailing_disable, mailing_enable
from mailings.tests.engine.helpers import make
from mailings.tests.factories import ClientFactory

LONDON = ZoneInfo("Europe/London")


def local(*args):
    return datetime(*args, tzinfo=LONDON)


@pytest.mark.django_db
def test_a_mailing_due_now_starts_at_once(smtp_server, user):
    with time_machine.travel(local(2026, 5, 1, 10, 0), tick=True):
        mailing = make(user, local(2026, 5, 1, 9), local(2026, 5, 2, 9))
        engine.replan_mailing(mailing)
    run = Run.objects.get(mailing=mailing)
    assert run.scheduled_for == local(2026, 5, 1, 9)
    assert len(smtp_server.messages) == 2
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED


@pytest.mark.django_db
def test_a_future_mailing_starts_by_itself_within_a_minute(smtp_server, user):
    with time_machine.travel(local(2026, 5, 1, 8, 0), tick=False):
        mailing = make(user, local(2026, 5, 1, 9), local(2026, 5, 2, 9))
        engine.replan_mailing(mailing)
        mailing.refresh_from_db()
        assert (mailing.status, mailing.next_run_at) == (MailingStatus.CREATED, local(2026, 5, 1, 9))
        wakeup = Schedule.objects.get(name=engine.wakeup_name(mailing.pk))
        assert (wakeup.func, wakeup.next_run) == ("mailings.tasks.dispatch_mailing", local(2026, 5, 1, 9))
        assert Schedule.objects.filter(name=engine.DISPATCH_SCHEDULE, minutes=1).exists()
    with time_machine.travel(local(2026, 5, 1, 8, 59, 59), tick=False):
        assert engine.dispatch_due()["started"] == []
    with time_machine.travel(local(2026, 5, 1, 9, 0, 30), tick=True):
        assert len(engine.dispatch_due()["started"]) == 1
    assert len(smtp_server.messages) == 2
    assert not Schedule.objects.filter(name=engine.wakeup_name(mailing.pk)).exists()


@pytest.mark.django_db
def test_a_daily_mailing_runs_every_day_until_its_end_then_completes(smtp_server, user):
    mailing = make(user, local(2026, 3, 27, 9), local(2026, 3, 30, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 3, 27, 8), tick=False):
        engine.replan_mailing(mailing)
    for day in (27, 28, 29):
        with time_machine.travel(local(2026, 3, day, 9, 0, 20), tick=True):
            engine.dispatch_due()
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.RUNNING
    assert list(
        Run.objects.filter(mailing=mailing).order_by("scheduled_for").values_list("scheduled_for", flat=True)
    ) == [
        local(2026, 3, 27, 9),
        local(2026, 3, 28, 9),
        local(2026, 3, 29, 9),  # 08:00 UTC: British Summer Time began that night
    ]
    assert mailing.next_run_at is None
    with time_machine.travel(local(2026, 3, 30, 9, 0, 1), tick=False):
        engine.dispatch_due()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED
    assert len(smtp_server.messages) == 6


@pytest.mark.django_db
def test_catch_up_after_downtime_makes_one_run_for_the_latest_missed_slot(smtp_server, user):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 6, 1, 9, 0, 5), tick=False):
        engine.replan_mailing(mailing)
    # The cluster was down from 2 to 5 June.
    with time_machine.travel(local(2026, 6, 5, 15, 0), tick=False):
        assert len(engine.dispatch_due()["started"]) == 1
        assert engine.dispatch_due()["started"] == []
    assert list(
        Run.objects.filter(mailing=mailing).order_by("scheduled_for").values_list("scheduled_for", flat=True)
    ) == [
        local(2026, 6, 1, 9),
        local(2026, 6, 5, 9),
    ]
    mailing.refresh_from_db()
    assert mailing.next_run_at == local(2026, 6, 6, 9)


@pytest.mark.django_db
def test_monthly_sequence_from_31_january(smtp_server, user):
    mailing = make(user, local(2027, 1, 31, 9), local(2027, 4, 1), Periodicity.MONTHLY, n=1)
    with time_machine.travel(local(2027, 1, 31, 9, 1), tick=False):
        engine.replan_mailing(mailing)
    for when in (local(2027, 2, 28, 9, 1), local(2027, 3, 31, 9, 1)):
        with time_machine.travel(when, tick=False):
            engine.dispatch_due()
    days = [
        timezone.localtime(r, LONDON).date().isoformat() for r in mailing.runs.values_list("scheduled_for", flat=True)
    ]
    assert sorted(days) == ["2027-01-31", "2027-02-28", "2027-03-31"]


@pytest.mark.django_db
def test_an_edit_within_the_window_starts_a_run_at_once(smtp_server, user):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.WEEKLY)
    with time_machine.travel(local(2026, 6, 1, 9, 0, 5), tick=False):
        engine.replan_mailing(mailing)
    with time_machine.travel(local(2026, 6, 3, 12, 0), tick=False):
        mailing.clients.add(ClientFactory(owner=user))
        engine.replan_mailing(mailing)
    runs = list(mailing.runs.order_by("scheduled_for"))
    assert [r.scheduled_for for r in runs] == [local(2026, 6, 1, 9), local(2026, 6, 3, 12)]
    assert runs[1].recipients_count == 3
    mailing.refresh_from_db()
    assert mailing.next_run_at == local(2026, 6, 8, 9)


@pytest.mark.django_db
def test_a_completed_one_off_mailing_is_not_sent_again_by_an_edit(smtp_server, user):
    mailing = make(user, timezone.now() - timedelta(hours=1), timezone.now() + timedelta(days=1))
    engine.replan_mailing(mailing)
    engine.replan_mailing(mailing)
    assert mailing.runs.count() == 1


@pytest.mark.django_db
def test_a_disabled_mailing_starts_no_run_and_enabling_it_starts_one(smtp_server, user, manager):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 6, 1, 8), tick=False):
        engine.replan_mailing(mailing)
        mailing_disable(mailing=mailing, by=manager, reason="Spam complaints")
        engine.replan_mailing(mailing)
    with time_machine.travel(local(2026, 6, 2, 10), tick=False):
        assert engine.dispatch_due()["started"] == []
        assert mailing.runs.count() == 0
        mailing_enable(mailing=mailing, by=manager)
        engine.replan_mailing(mailing)
    assert [r.scheduled_for for r in mailing.runs.all()] == [local(2026, 6, 2, 9)]


@pytest.mark.django_db
def test_a_blocked_owner_starts_no_run(smtp_server, user, manager, django_capture_on_commit_callbacks):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 6, 1, 8), tick=False):
        engine.replan_mailing(mailing)
        with django_capture_on_commit_callbacks(execute=True):
            user_block(user=user, by=manager, reason="Fraud")
    with time_machine.travel(local(2026, 6, 3, 10), tick=False):
        assert engine.dispatch_due()["started"] == []
        with django_capture_on_commit_callbacks(execute=True):
            user_unblock(user=user, by=manager)
    assert [r.scheduled_for for r in mailing.runs.all()] == [local(2026, 6, 3, 9)]


@pytest.mark.django_db
def test_disabling_stops_a_deferred_run_at_once(smtp_server, user, manager, settings):

    settings.EMAIL_PORT = closed_port()
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1), n=3)
    engine.replan_mailing(mailing)
    run = mailing.runs.get()
    assert run.status == RunStatus.DEFERRED
    mailing_disable(mailing=mailing, by=manager, reason="Paused")
    engine.replan_mailing(mailing)
    run.refresh_from_db()
    assert (run.status, run.skipped_count) == (RunStatus.STOPPED, 3)
