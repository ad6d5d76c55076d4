from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class EmailBackend(ModelBackend):
    """Email login, case-insensitive; blocked users are refused here too.

    When a blocked user gives the right password, the backend says so on the
    request (`request.login_blocked`), so the login form can answer "your
    account is blocked" to that person only. Every path runs the password
    hasher exactly once, so timing tells nothing either."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            User().set_password(password)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if request is not None and user.is_blocked and user.is_active:
            request.login_blocked = True
        return None

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_blocked", False)


def axes_username(request, credentials=None):
    """django-axes' lockout key: the address as login compares it (trimmed, any case),
    so "Ann@X.com" and "ann@x.com " share one lock instead of giving five tries each."""
    source = credentials or getattr(request, "data", request.POST)
    value = source.get("username")
    return value.strip().lower() if isinstance(value, str) else value
