from django.contrib.auth import logout


class BlockedUserMiddleware:
    """Cuts the open sessions of a user who was blocked: checked on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_blocked:
            logout(request)
        return self.get_response(request)
