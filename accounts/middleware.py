from django.contrib.auth import SESSION_KEY, logout


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
