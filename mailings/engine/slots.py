"""The schedule slots of a mailing: pure calendar arithmetic, no database.

Slots are `start_at + k periods` computed on the wall clock of the
mailing's own `time_zone` (the zone it was created in), so a daily 09:00
mailing stays at 09:00 there across a daylight-saving change, whatever the
site's or the worker's zone; monthly slots keep the start's day of the month,
clamped to the month's last day (31 Jan -> 28/29 Feb -> 31 Mar). A slot runs
only while it is before `end_at`.
"""

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from mailings.models import Mailing, Periodicity


def _add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def mailing_zone(mailing: Mailing) -> ZoneInfo:
    """The zone whose wall clock the mailing's schedule keeps (the site's if unset or unknown)."""
    try:
        return ZoneInfo(mailing.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def slot(mailing: Mailing, k: int) -> datetime:
    """The k-th slot (k >= 0) of a mailing, as an aware datetime."""
    start = timezone.localtime(mailing.start_at, mailing_zone(mailing))
    if k == 0 or mailing.periodicity == Periodicity.ONCE:
        return mailing.start_at
    if mailing.periodicity == Periodicity.DAILY:
        day = start.date() + timedelta(days=k)
    elif mailing.periodicity == Periodicity.WEEKLY:
        day = start.date() + timedelta(weeks=k)
    else:
        day = _add_months(start.date(), k, start.day)
    # Same wall-clock time in the mailing's zone. A time that a DST change skips
    # takes the offset before the change (it runs an hour later by the clock);
    # going through UTC gives a real instant either way.
    local = datetime.combine(day, start.time(), tzinfo=start.tzinfo)
    return local.astimezone(UTC)


def _estimate(mailing: Mailing, at: datetime) -> int:
    delta = at - mailing.start_at
    if mailing.periodicity == Periodicity.DAILY:
        return max(0, delta.days)
    if mailing.periodicity == Periodicity.WEEKLY:
        return max(0, delta.days // 7)
    zone = mailing_zone(mailing)
    start, now = timezone.localtime(mailing.start_at, zone), timezone.localtime(at, zone)
    return max(0, (now.year - start.year) * 12 + now.month - start.month)


def latest_slot(mailing: Mailing, at: datetime) -> datetime | None:
    """The last slot at or before `at` (and before the end), or None."""
    if at < mailing.start_at:
        return None
    if mailing.periodicity == Periodicity.ONCE:
        return mailing.start_at if mailing.start_at < mailing.end_at else None
    k = _estimate(mailing, at)
    while slot(mailing, k + 1) <= at:
        k += 1
    while k > 0 and slot(mailing, k) > at:
        k -= 1
    # A slot at or after the end never runs; step back to the last one before it.
    while k > 0 and slot(mailing, k) >= mailing.end_at:
        k -= 1
    found = slot(mailing, k)
    return found if found < mailing.end_at else None


def next_slot_after(mailing: Mailing, at: datetime) -> datetime | None:
    """The first slot strictly after `at` that is before the end, or None."""
    if at < mailing.start_at:
        return mailing.start_at if mailing.start_at < mailing.end_at else None
    if mailing.periodicity == Periodicity.ONCE:
        return None
    k = _estimate(mailing, at)
    while k > 0 and slot(mailing, k) > at:
        k -= 1
    while slot(mailing, k) <= at:
        k += 1
    found = slot(mailing, k)
    return found if found < mailing.end_at else None
