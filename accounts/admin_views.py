"""The Wagtail admin's pieces for accounts: the users list for managers (read
only, through `core.wagtail_admin.SelectorModelAdmin`), block / unblock, and
the permission policy that keeps Wagtail's own Settings → Users for superusers."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from wagtail.permission_policies import ModelPermissionPolicy

from accounts import services
from accounts.selectors import may_block, users_for_admin
from core.wagtail_admin import ActionButtonHelper, confirm_action, parse_pk, render_confirm, sentence

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


def _user_for_action(request, instance_pk):
    if not request.user.has_perm("accounts.block_user"):
        raise PermissionDenied
    target = get_object_or_404(users_for_admin(request.user), pk=parse_pk(instance_pk))
    if not may_block(request.user, target):
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
        question=gettext("Blocked because: %(reason)s Unblock this user?")
        % {"reason": sentence(target.blocked_reason)},
        button_label=gettext("Unblock"),
    )


class QuotaForm(forms.Form):
    daily_quota = forms.IntegerField(
        label=_("Daily quota"),
        required=False,
        min_value=0,
        help_text=_("Messages per day across all of this customer's mailings. Empty: unlimited."),
    )


@require_http_methods(["GET", "POST"])
def user_quota_view(request, instance_pk):
    """A manager sets a customer's daily quota (empty = unlimited)."""
    if not request.user.has_perm("accounts.block_user"):
        raise PermissionDenied
    target = get_object_or_404(users_for_admin(request.user), pk=parse_pk(instance_pk))
    form = QuotaForm(request.POST or None, initial={"daily_quota": target.daily_quota})
    if request.method == "POST" and form.is_valid():
        services.user_set_daily_quota(user=target, by=request.user, quota=form.cleaned_data["daily_quota"])
        messages.success(request, gettext("Daily quota of %(user)s saved.") % {"user": target})
        return redirect(_inspect_url(target))
    return render_confirm(
        request,
        title=gettext("Daily quota"),
        subject=target,
        question=gettext("Sent today: %(sent)s. A run that reaches the quota pauses until the customer's next day.")
        % {"sent": target.sent_today},
        button_label=gettext("Save"),
        form=form,
        back_url=_inspect_url(target),
        status=400 if form.errors else 200,
    )


class UserButtonHelper(ActionButtonHelper):
    def extra_buttons_for_obj(self, obj):
        if not may_block(self.request.user, obj):
            return []
        quota = self.button("quota", obj, gettext("Set daily quota"))
        if obj.is_blocked:
            return [self.button("unblock", obj, gettext("Unblock")), quota]
        return [self.button("block", obj, gettext("Block"), "button button-small no"), quota]
