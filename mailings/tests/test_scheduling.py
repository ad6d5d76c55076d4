"""When mailings run, with a controlled clock (time-machine)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule

from accounts.services import user_block, user_unblock
from mailings import scheduling, sending
from mailings.models import Delivery, DeliveryState, Mailing, MailingStatus, Periodicity, Run, RunStatus
from mailings.scheduling import latest_slot, mailing_changed, next_slot_after, slot
from mailings.services import mailing_disable, mailing_enable
from mailings.tests.factories import ClientFactory, MailingFactory

LONDON = ZoneInfo("Europe/London")


def local(*args):
    return datetime(*args, tzinfo=LONDON)


def slots(mailing, n):
    return [timezone.localtime(slot(mailing, k), LONDON) for k in range(n)]


# --- slots, no database ----------------------------------------------------------------------


def test_monthly_keeps_the_day_clamped_to_the_month_end():
    m = Mailing(start_at=local(2027, 1, 31, 9, 0), end_at=local(2028, 12, 31), periodicity=Periodicity.MONTHLY)
    days = [(s.year, s.month, s.day, s.hour) for s in slots(m, 5)]
    assert days == [(2027, 1, 31, 9), (2027, 2, 28, 9), (2027, 3, 31, 9), (2027, 4, 30, 9), (2027, 5, 31, 9)]
    leap = Mailing(start_at=local(2028, 1, 31, 9, 0), end_at=local(2028, 12, 31), periodicity=Periodicity.MONTHLY)
    assert [(s.month, s.day) for s in slots(leap, 3)] == [(1, 31), (2, 29), (3, 31)]


def test_daily_keeps_the_wall_clock_time_across_daylight_saving_changes():
    m = Mailing(start_at=local(2026, 3, 28, 9, 0), end_at=local(2026, 12, 1), periodicity=Periodicity.DAILY)
    utc = [s.astimezone(UTC).hour for s in (slot(m, 0), slot(m, 1), slot(m, 2))]
    assert [s.hour for s in slots(m, 3)] == [9, 9, 9]
    assert utc == [9, 8, 8]  # GMT, then BST from 29 March 2026
    autumn = Mailing(start_at=local(2026, 10, 24, 9, 0), end_at=local(2026, 12, 1), periodicity=Periodicity.DAILY)
    assert [s.astimezone(UTC).hour for s in (slot(autumn, 0), slot(autumn, 1))] == [8, 9]


def test_weekly_monthly_across_dst_in_the_site_zone():
    m = Mailing(start_at=local(2026, 3, 22, 9, 30), end_at=local(2026, 12, 1), periodicity=Periodicity.WEEKLY)
    assert [(s.month, s.day, s.hour, s.minute) for s in slots(m, 2)] == [(3, 22, 9, 30), (3, 29, 9, 30)]
    monthly = Mailing(start_at=local(2026, 2, 15, 12, 0), end_at=local(2026, 12, 1), periodicity=Periodicity.MONTHLY)
    assert [s.astimezone(UTC).hour for s in (slot(monthly, 0), slot(monthly, 1), slot(monthly, 2))] == [12, 12, 11]


def test_a_wall_time_skipped_by_the_clock_change_runs_an_hour_later():
    m = Mailing(start_at=local(2026, 3, 28, 1, 30), end_at=local(2026, 4, 30), periodicity=Periodicity.DAILY)
    assert slot(m, 1) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST


def test_latest_and_next_slot_and_the_end_time():
    m = Mailing(start_at=local(2026, 1, 1, 9), end_at=local(2026, 1, 4, 9), periodicity=Periodicity.DAILY)
    assert latest_slot(m, local(2025, 12, 31)) is None
    assert latest_slot(m, local(2026, 1, 2, 8, 59)) == local(2026, 1, 1, 9)
    assert latest_slot(m, local(2026, 1, 2, 9)) == local(2026, 1, 2, 9)
    assert next_slot_after(m, local(2026, 1, 2, 9)) == local(2026, 1, 3, 9)
    # The slot at the end time does not run.
    assert next_slot_after(m, local(2026, 1, 3, 9)) is None
    assert latest_slot(m, local(2026, 2, 1)) == local(2026, 1, 3, 9)
    once = Mailing(start_at=local(2026, 1, 1, 9), end_at=local(2026, 1, 4, 9), periodicity=Periodicity.ONCE)
    assert next_slot_after(once, local(2025, 1, 1)) == local(2026, 1, 1, 9)
    assert next_slot_after(once, local(2026, 1, 1, 9)) is None


# --- with the database and a real SMTP server ---------------------------------------------------

pytestmark_db = pytest.mark.django_db


def scheduled(mailing):
    return list(Run.objects.filter(mailing=mailing).order_by("scheduled_for").values_list("scheduled_for", flat=True))


def make(user, start, end, periodicity=Periodicity.ONCE, n=2):
    clients = [ClientFactory(owner=user) for _ in range(n)]
    return MailingFactory(owner=user, start_at=start, end_at=end, periodicity=periodicity, clients=clients)


@pytestmark_db
def test_a_mailing_due_now_starts_at_once(smtp_server, user):
    with time_machine.travel(local(2026, 5, 1, 10, 0), tick=True):
        mailing = make(user, local(2026, 5, 1, 9), local(2026, 5, 2, 9))
        mailing_changed(mailing)
    run = Run.objects.get(mailing=mailing)
    assert run.scheduled_for == local(2026, 5, 1, 9)
    assert len(smtp_server.messages) == 2
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED


@pytestmark_db
def test_a_future_mailing_starts_by_itself_within_a_minute(smtp_server, user):
    with time_machine.travel(local(2026, 5, 1, 8, 0), tick=False):
        mailing = make(user, local(2026, 5, 1, 9), local(2026, 5, 2, 9))
        mailing_changed(mailing)
        mailing.refresh_from_db()
        assert (mailing.status, mailing.next_run_at) == (MailingStatus.CREATED, local(2026, 5, 1, 9))
        wakeup = Schedule.objects.get(name=scheduling.wakeup_name(mailing.pk))
        assert (wakeup.func, wakeup.next_run) == ("mailings.tasks.dispatch_mailing", local(2026, 5, 1, 9))
        assert Schedule.objects.filter(name=scheduling.DISPATCH_SCHEDULE, minutes=1).exists()
    with time_machine.travel(local(2026, 5, 1, 8, 59, 59), tick=False):
        assert sending.dispatch_due()["started"] == []
    with time_machine.travel(local(2026, 5, 1, 9, 0, 30), tick=True):
        assert len(sending.dispatch_due()["started"]) == 1
    assert len(smtp_server.messages) == 2
    assert not Schedule.objects.filter(name=scheduling.wakeup_name(mailing.pk)).exists()


@pytestmark_db
def test_a_daily_mailing_runs_every_day_until_its_end_then_completes(smtp_server, user):
    mailing = make(user, local(2026, 3, 27, 9), local(2026, 3, 30, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 3, 27, 8), tick=False):
        mailing_changed(mailing)
    for day in (27, 28, 29):
        with time_machine.travel(local(2026, 3, day, 9, 0, 20), tick=True):
            sending.dispatch_due()
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
        sending.dispatch_due()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.COMPLETED
    assert len(smtp_server.messages) == 6


@pytestmark_db
def test_catch_up_after_downtime_makes_one_run_for_the_latest_missed_slot(smtp_server, user):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 6, 1, 9, 0, 5), tick=False):
        mailing_changed(mailing)
    # The cluster was down from 2 to 5 June.
    with time_machine.travel(local(2026, 6, 5, 15, 0), tick=False):
        assert len(sending.dispatch_due()["started"]) == 1
        assert sending.dispatch_due()["started"] == []
    assert list(
        Run.objects.filter(mailing=mailing).order_by("scheduled_for").values_list("scheduled_for", flat=True)
    ) == [
        local(2026, 6, 1, 9),
        local(2026, 6, 5, 9),
    ]
    mailing.refresh_from_db()
    assert mailing.next_run_at == local(2026, 6, 6, 9)


@pytestmark_db
def test_monthly_sequence_from_31_january(smtp_server, user):
    mailing = make(user, local(2027, 1, 31, 9), local(2027, 4, 1), Periodicity.MONTHLY, n=1)
    with time_machine.travel(local(2027, 1, 31, 9, 1), tick=False):
        mailing_changed(mailing)
    for when in (local(2027, 2, 28, 9, 1), local(2027, 3, 31, 9, 1)):
        with time_machine.travel(when, tick=False):
            sending.dispatch_due()
    days = [
        timezone.localtime(r, LONDON).date().isoformat() for r in mailing.runs.values_list("scheduled_for", flat=True)
    ]
    assert sorted(days) == ["2027-01-31", "2027-02-28", "2027-03-31"]


@pytestmark_db
def test_an_edit_within_the_window_starts_a_run_at_once(smtp_server, user):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.WEEKLY)
    with time_machine.travel(local(2026, 6, 1, 9, 0, 5), tick=False):
        mailing_changed(mailing)
    with time_machine.travel(local(2026, 6, 3, 12, 0), tick=False):
        mailing.clients.add(ClientFactory(owner=user))
        mailing_changed(mailing)
    runs = list(mailing.runs.order_by("scheduled_for"))
    assert [r.scheduled_for for r in runs] == [local(2026, 6, 1, 9), local(2026, 6, 3, 12)]
    assert runs[1].recipients_count == 3
    mailing.refresh_from_db()
    assert mailing.next_run_at == local(2026, 6, 8, 9)


@pytestmark_db
def test_a_completed_one_off_mailing_is_not_sent_again_by_an_edit(smtp_server, user):
    mailing = make(user, timezone.now() - timedelta(hours=1), timezone.now() + timedelta(days=1))
    mailing_changed(mailing)
    mailing_changed(mailing)
    assert mailing.runs.count() == 1


@pytestmark_db
def test_a_disabled_mailing_starts_no_run_and_enabling_it_starts_one(smtp_server, user, manager):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 6, 1, 8), tick=False):
        mailing_changed(mailing)
        mailing_disable(mailing=mailing, by=manager, reason="Spam complaints")
        mailing_changed(mailing)
    with time_machine.travel(local(2026, 6, 2, 10), tick=False):
        assert sending.dispatch_due()["started"] == []
        assert mailing.runs.count() == 0
        mailing_enable(mailing=mailing, by=manager)
        mailing_changed(mailing)
    assert [r.scheduled_for for r in mailing.runs.all()] == [local(2026, 6, 2, 9)]


@pytestmark_db
def test_a_blocked_owner_starts_no_run(smtp_server, user, manager, django_capture_on_commit_callbacks):
    mailing = make(user, local(2026, 6, 1, 9), local(2026, 7, 1, 9), Periodicity.DAILY)
    with time_machine.travel(local(2026, 6, 1, 8), tick=False):
        mailing_changed(mailing)
        with django_capture_on_commit_callbacks(execute=True):
            user_block(user=user, by=manager, reason="Fraud")
    with time_machine.travel(local(2026, 6, 3, 10), tick=False):
        assert sending.dispatch_due()["started"] == []
        with django_capture_on_commit_callbacks(execute=True):
            user_unblock(user=user, by=manager)
    assert [r.scheduled_for for r in mailing.runs.all()] == [local(2026, 6, 3, 9)]


def _stop_after(n, action):
    sent = {"n": 0}

    def progress(_):
        sent["n"] += 1
        if sent["n"] == n:
            action()

    return progress


@pytestmark_db
def test_disabling_a_mailing_mid_run_stops_it_and_records_the_rest_as_not_sent(smtp_server, user, manager, settings):
    settings.MAILINGS_CHECK_SECONDS = 0
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1), n=6)
    run = Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at, status=RunStatus.PENDING)
    sending.snapshot_recipients(run)

    def disable():
        # A manager, in another process: the chunk notices between messages.
        Mailing.objects.filter(pk=mailing.pk).update(is_active=False, disabled_reason="Spam complaints")

    result = sending.send_chunk(run.pk, progress=_stop_after(2, disable))
    assert result.stopped
    run.refresh_from_db()
    assert run.status == RunStatus.STOPPED
    assert "disabled by a manager" in run.stop_reason
    assert "Spam complaints" in run.stop_reason
    assert (run.sent_count, run.skipped_count) == (2, 4)
    skipped = Delivery.objects.filter(run=run, state=DeliveryState.SKIPPED)
    assert skipped.count() == 4
    assert all("disabled" in d.last_reply for d in skipped)
    assert len(smtp_server.messages) == 2


@pytestmark_db
def test_blocking_the_owner_mid_run_stops_it(smtp_server, user, manager, settings):
    settings.MAILINGS_CHECK_SECONDS = 0
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1), n=5)
    run = Run.objects.create(mailing=mailing, scheduled_for=mailing.start_at, status=RunStatus.PENDING)
    sending.snapshot_recipients(run)

    result = sending.send_chunk(run.pk, progress=_stop_after(3, lambda: user_block(user=user, by=manager)))

    assert result.stopped
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.skipped_count) == (RunStatus.STOPPED, 3, 2)
    assert "blocked" in run.stop_reason
    assert len(smtp_server.messages) == 3


@pytestmark_db
def test_disabling_stops_a_deferred_run_at_once(smtp_server, user, manager, settings):
    from core.testing.smtp import closed_port

    settings.EMAIL_PORT = closed_port()
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1), n=3)
    mailing_changed(mailing)
    run = mailing.runs.get()
    assert run.status == RunStatus.DEFERRED
    mailing_disable(mailing=mailing, by=manager, reason="Paused")
    mailing_changed(mailing)
    run.refresh_from_db()
    assert (run.status, run.skipped_count) == (RunStatus.STOPPED, 3)


@pytestmark_db
def test_deleting_a_mailing_leaves_nothing_scheduled(user):
    mailing = make(user, timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2))
    mailing_changed(mailing)
    assert Schedule.objects.filter(name=scheduling.wakeup_name(mailing.pk)).exists()
    pk = mailing.pk
    Mailing.objects.filter(owner=user).delete()  # the queryset delete a cascade makes
    assert not Mailing.objects.filter(pk=pk).exists()
    assert not Schedule.objects.filter(name=scheduling.wakeup_name(pk)).exists()
    assert Schedule.objects.filter(name=scheduling.DISPATCH_SCHEDULE).count() == 1


@pytestmark_db
def test_two_dispatchers_never_take_the_same_slot(smtp_server, user):
    mailing = make(user, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=1))
    Mailing.objects.filter(pk=mailing.pk).update(next_run_at=mailing.start_at)
    first = sending.start_due_run(mailing.pk)
    second = sending.start_due_run(mailing.pk)
    assert first is not None
    assert second is None
    assert mailing.runs.count() == 1
