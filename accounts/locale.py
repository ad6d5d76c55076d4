"""Each user's language and time zone: reading them, and speaking to a user in them.

Writes go through accounts.services.user_locale_set, which keeps Wagtail's
own UserProfile (the admin's language and time zone) in step."""

import zoneinfo
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.utils import timezone, translation


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted; the only values a profile or mailing accepts."""
    return tuple(sorted(zoneinfo.available_timezones() - {"Factory", "localtime"}))


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone of that name, or the site's zone for an empty or unknown one."""
    return zoneinfo.ZoneInfo(name if name and is_time_zone(name) else settings.TIME_ZONE)


def user_zone(user) -> zoneinfo.ZoneInfo:
    return zone(getattr(user, "time_zone", ""))


def user_language(user) -> str:
    language = getattr(user, "language", "")
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@contextmanager
def speaking_to(user):
    """Render in `user`'s language and time zone (emails, notices); the site's defaults for None."""
    language = user_language(user) if user is not None else translation.get_language()
    with translation.override(language), timezone.override(user_zone(user) if user is not None else None):
        yield


def set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
