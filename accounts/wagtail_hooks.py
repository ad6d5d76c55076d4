"""The "Users" menu of the Wagtail admin for managers: list, search, filter,
inspect, block and unblock. Wagtail's own Settings → Users (which edits
accounts) is kept for superusers by a permission policy."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import re_path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail_modeladmin.options import modeladmin_register

from accounts import admin_views
from core.wagtail_admin import HistoryInspectView, SelectorModelAdmin, reason_formatter

User = get_user_model()

# Registered before wagtail.users asks for the User policy (accounts comes
# first in INSTALLED_APPS, so its hooks module is imported first).
register_permission_policy(User, admin_views.SuperuserOnlyUserPolicy(User))


class UserAdmin(SelectorModelAdmin):
    model = User
    menu_label = _("Users")
    menu_icon = "user"
    menu_order = 210
    list_display = ("email", "full_name", "is_verified", "is_blocked", "date_joined", "mailings_count", "last_login")
    list_filter = ("is_verified", "is_blocked", "is_active", "date_joined", "last_login", "groups")
    search_fields = ("email", "first_name", "last_name", "company")
    ordering = ("email",)
    button_helper_class = admin_views.UserButtonHelper
    inspect_view_class = HistoryInspectView
    inspect_template_name = "accounts/admin/user_inspect.html"
    inspect_view_fields = (
        "email",
        "first_name",
        "last_name",
        "company",
        "phone",
        "is_verified",
        "is_active",
        "is_blocked",
        "blocked_at",
        "blocked_reason",
        "date_joined",
        "last_login",
        "groups",
    )

    def rows_for(self, user):
        return admin_views.users_for_admin(user)

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description=_("mailings"), ordering="mailings_count")
    def mailings_count(self, obj):
        return obj.mailings_count

    def get_extra_admin_urls(self):
        return (
            re_path(
                self.url_helper.get_action_url_pattern("block"),
                admin_views.user_block_view,
                name=self.url_helper.get_action_url_name("block"),
            ),
            re_path(
                self.url_helper.get_action_url_pattern("unblock"),
                admin_views.user_unblock_view,
                name=self.url_helper.get_action_url_name("unblock"),
            ),
        )


modeladmin_register(UserAdmin)


@hooks.register("register_log_actions")
def register_user_log_actions(actions):
    actions.register_action("mailsite.user.block")(reason_formatter(_("Block user"), _("User blocked")))
    actions.register_action("mailsite.user.unblock")(reason_formatter(_("Unblock user"), _("User unblocked")))


@hooks.register("register_account_menu_item")
def email_change_menu_item(request):
    # Wagtail's email and password fields are off (settings): ours verify the new address and check the old password.
    return {
        "url": reverse("accounts:email_change"),
        "label": _("Change email"),
        "help_text": _("A link is sent to the new address; the change takes effect when you open it."),
    }


@hooks.register("register_account_menu_item")
def password_change_menu_item(request):
    return {
        "url": reverse("accounts:password_change"),
        "label": _("Change password"),
        "help_text": _("Change the password you sign in with."),
    }
