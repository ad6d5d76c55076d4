"""Who may do what: customers work on what they own; managers read everything
and take the admin's two actions (disable a mailing, block a user), nothing else."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission


def is_manager(user) -> bool:
    """Managers and superusers: the users who may see every mailing (as in the admin)."""
    return user.has_perm("mailings.view_mailing")


class IsVerifiedUser(BasePermission):
    message = _("Verify your email address before you use the API.")
    code = "email_unverified"

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return user.is_verified


class ManagersReadOnly(BasePermission):
    message = _("Managers have read-only access to this resource.")
    code = "read_only"

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or not is_manager(request.user)


class HasPerm(BasePermission):
    """A model-level permission, for the managers' actions."""

    code = "permission_denied"
    message = _("You do not have permission to do this.")
    perm = ""

    @classmethod
    def of(cls, perm):
        return type(f"HasPerm_{perm.replace('.', '_')}", (cls,), {"perm": perm})

    def has_permission(self, request, view):
        return request.user.has_perm(self.perm)


class CustomersOnly(BasePermission):
    message = _("Only customers do this, on what they own.")
    code = "customers_only"

    def has_permission(self, request, view):
        return not is_manager(request.user)
