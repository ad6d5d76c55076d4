"""Schedule slots (engine/slots.py): pure calendar arithmetic across DST and month ends."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from mailings.engine import latest_slot, next_slot_after, slot
from mailings.models import Mailing, Periodicity

LONDON = ZoneInfo("Europe/London")


def local(*args):
    return datetime(*args, tzinfo=LONDON)


def slots(mailing, n):
    return [timezone.localtime(slot(mailing, k), LONDON) for k in range(n)]


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
