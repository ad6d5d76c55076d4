"""The Wagtail admin's pieces for accounts: the users list for managers (read
only, through `core.wagtail_admin.SelectorModelAdmin`), block / unblock, and
the permission policy that keeps Wagtail's own Settings → Users for superusers."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods
from wagtail.permission_policies import ModelPermissionPolicy

from accounts import services
from core.wagtail_admin import ActionButtonHelper, confirm_action, parse_pk
from mailings import selectors

User = get_user_model()


class SuperuserOnlyUserPolicy(ModelPermissionPolicy):
    """Wagtail's Settings → Users creates and edits accounts: superusers only.

    Without this, Wagtail 8 shows its users list (read-only) to anyone with
    `view_user`, which managers have for their own read-only users list."""

    def user_has_permission(self, user, action):
        return user.is_active and user.is_superuser

    def user_has_any_permission(self, user, actions):
        return user.is_active and user.is_superuser

    def users_with_any_permission(self, actions):
        return User.objects.filter(is_active=True, is_superuser=True)


def users_for_admin(viewer):
    """Users a viewer may list, each with the number of mailings they own that
    the viewer may see (counted through the mailing selector)."""
    if not viewer.has_perm("accounts.view_user"):
        return User.objects.none()
    owned = (
        selectors.mailings_for_user(viewer)
        .filter(owner=OuterRef("pk"))
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return User.objects.annotate(
        mailings_count=Coalesce(Subquery(owned, output_field=IntegerField()), 0),
    )


def _user_for_action(request, instance_pk):
    if not request.user.has_perm("accounts.block_user"):
        raise PermissionDenied
    target = get_object_or_404(users_for_admin(request.user), pk=parse_pk(instance_pk))
    # Nobody blocks themselves, and only a superuser blocks a superuser.
    if target == request.user or (target.is_superuser and not request.user.is_superuser):
        raise PermissionDenied
    return target


def _inspect_url(user):
    return reverse("accounts_user_modeladmin_inspect", args=[user.pk])


@require_http_methods(["GET", "POST"])
def user_block_view(request, instance_pk):
    target = _user_for_action(request, instance_pk)
    return confirm_action(
        request,
        subject=target,
        back_url=_inspect_url(target),
        refused=gettext("This user is already blocked.") if target.is_blocked else None,
        perform=lambda reason: services.user_block(user=target, by=request.user, reason=reason),
        done=gettext("User %(user)s blocked.") % {"user": target},
        title=gettext("Block user"),
        question=gettext(
            "A blocked user cannot log in, is logged out of open sessions and their mailings send nothing more."
        ),
        button_label=gettext("Block"),
        ask_reason=True,
    )


@require_http_methods(["GET", "POST"])
def user_unblock_view(request, instance_pk):
    target = _user_for_action(request, instance_pk)
    return confirm_action(
        request,
        subject=target,
        back_url=_inspect_url(target),
        refused=None if target.is_blocked else gettext("This user is not blocked."),
        perform=lambda reason: services.user_unblock(user=target, by=request.user),
        done=gettext("User %(user)s unblocked.") % {"user": target},
        title=gettext("Unblock user"),
        question=gettext("Blocked because: %(reason)s. Unblock this user?") % {"reason": target.blocked_reason},
        button_label=gettext("Unblock"),
    )


class UserButtonHelper(ActionButtonHelper):
    def extra_buttons_for_obj(self, obj):
        viewer = self.request.user
        if not viewer.has_perm("accounts.block_user") or obj == viewer:
            return []
        if obj.is_superuser and not viewer.is_superuser:
            return []
        if obj.is_blocked:
            return [self.button("unblock", obj, gettext("Unblock"))]
        return [self.button("block", obj, gettext("Block"), "button button-small no")]
