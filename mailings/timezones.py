"""The time zone a customer's times are shown, entered and counted in.

One helper, so every part of mailings (forms, the daily quota, the admin's
"sent today") asks the same question the same way."""

from zoneinfo import ZoneInfo

from accounts.locale import user_zone


def user_time_zone(user) -> ZoneInfo:
    """The zone of a user's forms, pages and daily quota: their own (User.time_zone)."""
    return user_zone(user)
