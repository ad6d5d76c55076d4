"""The "Mailings" menu of the Wagtail admin, its audit-log actions and the
dashboard panel. Every view is read-only and takes its rows from
`mailings.selectors`; see `mailings.admin_views` and `core.wagtail_admin`."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import re_path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.models import Page
from wagtail.permissions import policy_registry
from wagtail_modeladmin.options import ModelAdminGroup, modeladmin_register

from core.wagtail_admin import HistoryInspectView, SelectorModelAdmin, reason_formatter
from mailings import admin_views, selectors
from mailings.models import Attempt, Client, Mailing, Message


class MailingAdmin(SelectorModelAdmin):
    model = Mailing
    menu_icon = "mail"
    # Few, narrow columns: status and active as words, the owner as one short column.
    list_display = ("mailing", "owner_email", "status_words", "periodicity", "next_run_at")
    # No owner filter: it listed every owner. The search box finds owners by email.
    list_filter = ("status", "is_active", "periodicity", "created_at")
    search_fields = ("message__subject", "owner__email")
    list_select_related = ("message", "owner")
    button_helper_class = admin_views.MailingButtonHelper
    inspect_view_class = admin_views.MailingInspectView
    inspect_template_name = "mailings/admin/mailing_inspect.html"
    inspect_view_fields = (
        "owner",
        "status",
        "is_active",
        "disabled_at",
        "disabled_by",
        "disabled_reason",
        "periodicity",
        "start_at",
        "end_at",
        "next_run_at",
        "created_at",
        "updated_at",
    )

    def rows_for(self, user):
        return selectors.mailings_for_user(user)

    @admin.display(description=_("mailing"), ordering="-id")
    def mailing(self, obj):
        return str(obj)

    @admin.display(description=_("owner"), ordering="owner__email")
    def owner_email(self, obj):
        return format_html('<span class="mailsite-truncate" title="{0}">{0}</span>', obj.owner.email)

    @admin.display(description=_("status"), ordering="status")
    def status_words(self, obj):
        if obj.is_active:
            return obj.get_status_display()
        return format_html(
            '<span class="mailsite-nowrap">{}</span> · <strong>{}</strong>',
            obj.get_status_display(),
            gettext("disabled"),
        )

    def get_extra_admin_urls(self):
        return (
            re_path(
                self.url_helper.get_action_url_pattern("disable"),
                admin_views.mailing_disable_view,
                name=self.url_helper.get_action_url_name("disable"),
            ),
            re_path(
                self.url_helper.get_action_url_pattern("enable"),
                admin_views.mailing_enable_view,
                name=self.url_helper.get_action_url_name("enable"),
            ),
        )


class ClientAdmin(SelectorModelAdmin):
    model = Client
    menu_icon = "group"
    list_display = ("email", "full_name", "owner", "unsubscribed_at", "bounced_at", "created_at")
    list_filter = ("created_at", "unsubscribe_source")
    search_fields = ("email", "full_name", "owner__email")
    list_select_related = ("owner",)
    inspect_view_class = HistoryInspectView
    inspect_template_name = "mailings/admin/inspect.html"
    inspect_view_fields = (
        "email",
        "full_name",
        "comment",
        "owner",
        "unsubscribed_at",
        "unsubscribe_source",
        "bounced_at",
        "bounce_reply",
        "created_at",
        "updated_at",
    )

    def rows_for(self, user):
        return selectors.clients_for_user(user)


class MessageAdmin(SelectorModelAdmin):
    model = Message
    menu_icon = "doc-full"
    list_display = ("subject", "owner", "created_at", "updated_at")
    list_filter = ("created_at",)
    search_fields = ("subject", "owner__email")
    list_select_related = ("owner",)
    inspect_view_class = HistoryInspectView
    inspect_template_name = "mailings/admin/inspect.html"
    inspect_view_fields = ("subject", "body_format", "body", "owner", "created_at", "updated_at")

    def rows_for(self, user):
        return selectors.messages_for_user(user)


class AttemptAdmin(SelectorModelAdmin):
    model = Attempt
    menu_icon = "list-ul"
    menu_label = _("Attempts")
    list_display = ("attempted_at", "email", "mailing", "status", "is_temporary", "smtp_code", "server_reply")
    list_filter = ("status", "is_temporary", "attempted_at")
    search_fields = ("email", "server_reply")
    list_select_related = ("mailing__message",)
    inspect_view_class = HistoryInspectView
    inspect_template_name = "mailings/admin/inspect.html"
    inspect_view_fields = (
        "attempted_at",
        "email",
        "mailing",
        "run",
        "client",
        "status",
        "is_temporary",
        "smtp_code",
        "server_reply",
    )

    def rows_for(self, user):
        return selectors.attempts_for_user(user)


class MailingsGroup(ModelAdminGroup):
    menu_label = _("Mailings")
    menu_icon = "mail"
    menu_order = 200
    items = (MailingAdmin, ClientAdmin, MessageAdmin, AttemptAdmin)


modeladmin_register(MailingsGroup)


@hooks.register("register_log_actions")
def register_mailing_log_actions(actions):
    actions.register_action("mailsite.mailing.disable")(reason_formatter(_("Disable mailing"), _("Mailing disabled")))
    actions.register_action("mailsite.mailing.enable")(reason_formatter(_("Enable mailing"), _("Mailing enabled")))


class AuditTrailMenuItem(MenuItem):
    """Wagtail shows Reports → Site history only to users who can explore
    pages; managers have no pages, so the audit trail gets its own menu item."""

    def is_shown(self, request):
        user = request.user
        return (
            user.has_perm("mailings.view_mailing")
            and policy_registry.get_by_type(Page).explorable_root_instance(user) is None
        )


@hooks.register("register_admin_menu_item")
def register_audit_trail_menu_item():
    return AuditTrailMenuItem(
        _("Audit trail"),
        reverse("wagtailadmin_reports:site_history"),
        name="audit-trail",
        icon_name="history",
        order=220,
    )


@hooks.register("insert_global_admin_css")
def admin_css():
    return format_html('<link rel="stylesheet" href="{}">', static("css/admin.css"))


@hooks.register("construct_homepage_panels")
def add_service_totals_panel(request, panels):
    if admin_views.user_sees_service_totals(request.user):
        panels.append(admin_views.ServiceTotalsPanel())
