from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Email login, case-insensitive; blocked users are refused here too."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_blocked", False)
