"""The time zone a customer's times are shown, entered and counted in.

One helper on purpose: when users and mailings get their own time zone, this
is the one line to switch."""

from zoneinfo import ZoneInfo

from django.conf import settings


def user_time_zone(user) -> ZoneInfo:
    """The zone of a user's forms, pages and daily quota."""
    return ZoneInfo(settings.TIME_ZONE)
