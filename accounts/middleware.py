from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.utils import timezone, translation
from django.utils.translation import get_language_from_path

from accounts.locale import set_language_cookie, user_zone


class BlockedUserMiddleware:
    """Cuts the open sessions of a user who was blocked: checked on every request.

    The auth backend already refuses a blocked user's session (request.user is
    anonymous), so a session that still names a user but has no user behind
    it is flushed for good: unblocking later does not revive it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None:
            if user.is_authenticated and user.is_blocked:
                logout(request)
            elif not user.is_authenticated and SESSION_KEY in request.session:
                request.session.flush()
        return self.get_response(request)


class UserLocaleMiddleware:
    """A logged-in user's profile language and time zone win over the cookie
    and the browser, except on /ru/ and /en/ page URLs, whose prefix decides."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            timezone.deactivate()
            return self.get_response(request)
        timezone.activate(user_zone(user))
        language = user.language if user.language in dict(settings.LANGUAGES) else None
        if language and not get_language_from_path(request.path_info):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            set_language_cookie(response, language)
        return response
