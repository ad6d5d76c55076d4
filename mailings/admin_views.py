"""The Wagtail admin's pieces for the mailing domain: the disable / enable
views, the mailing inspect view and the dashboard panel. The read-only base
classes they build on live in `core.wagtail_admin`."""

from datetime import timedelta

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods
from wagtail.admin.ui.components import Component

from core.wagtail_admin import ActionButtonHelper, HistoryInspectView, confirm_action, parse_pk
from mailings import selectors, services
from mailings.models import AttemptStatus, MailingStatus

LATEST_RUNS = 10
LATEST_ATTEMPTS = 20


class MailingInspectView(HistoryInspectView):
    """A mailing with its message, recipients, runs, totals and latest attempts."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        mailing = self.instance
        runs = selectors.runs_for_user(user).filter(mailing=mailing)
        context.update(
            {
                "message": mailing.message,
                "recipients_count": mailing.clients.count(),
                "runs": runs.order_by("-started_at", "-id")[:LATEST_RUNS],
                "totals": runs.aggregate(
                    runs=Count("pk"),
                    recipients=Sum("recipients_count", default=0),
                    sent=Sum("sent_count", default=0),
                    failed=Sum("failed_count", default=0),
                ),
                "latest_attempts": selectors.attempts_for_user(user)
                .filter(mailing=mailing)
                .order_by("-attempted_at", "-id")[:LATEST_ATTEMPTS],
                "can_disable": user.has_perm("mailings.disable_mailing"),
                "disable_url": self.url_helper.get_action_url("disable", self.pk_quoted),
                "enable_url": self.url_helper.get_action_url("enable", self.pk_quoted),
            }
        )
        return context


def _mailing_for_action(request, instance_pk):
    if not request.user.has_perm("mailings.disable_mailing"):
        raise PermissionDenied
    return get_object_or_404(selectors.mailings_for_user(request.user), pk=parse_pk(instance_pk))


def _inspect_url(mailing):
    return reverse("mailings_mailing_modeladmin_inspect", args=[quote(mailing.pk)])


@require_http_methods(["GET", "POST"])
def mailing_disable_view(request, instance_pk):
    mailing = _mailing_for_action(request, instance_pk)
    return confirm_action(
        request,
        subject=mailing,
        back_url=_inspect_url(mailing),
        refused=None if mailing.is_active else gettext("This mailing is already disabled."),
        perform=lambda reason: services.mailing_disable(mailing=mailing, by=request.user, reason=reason),
        done=gettext("Mailing %(mailing)s disabled.") % {"mailing": mailing},
        title=gettext("Disable mailing"),
        question=gettext("The mailing stops sending at once and starts nothing new until it is enabled again."),
        button_label=gettext("Disable"),
        ask_reason=True,
    )


@require_http_methods(["GET", "POST"])
def mailing_enable_view(request, instance_pk):
    mailing = _mailing_for_action(request, instance_pk)
    return confirm_action(
        request,
        subject=mailing,
        back_url=_inspect_url(mailing),
        refused=gettext("This mailing is already enabled.") if mailing.is_active else None,
        perform=lambda reason: services.mailing_enable(mailing=mailing, by=request.user),
        done=gettext("Mailing %(mailing)s enabled.") % {"mailing": mailing},
        title=gettext("Enable mailing"),
        question=gettext("Disabled because: %(reason)s. Enable it again? It resumes its schedule.")
        % {"reason": mailing.disabled_reason},
        button_label=gettext("Enable"),
    )


class MailingButtonHelper(ActionButtonHelper):
    def extra_buttons_for_obj(self, obj):
        if not self.request.user.has_perm("mailings.disable_mailing"):
            return []
        if obj.is_active:
            return [self.button("disable", obj, gettext("Disable"), "button button-small no")]
        return [self.button("enable", obj, gettext("Enable"))]


# --- Dashboard panel ------------------------------------------------------------------


def user_sees_service_totals(user) -> bool:
    """Managers and superusers: the users who may see every mailing."""
    return user.has_perm("mailings.view_mailing")


def service_totals(user) -> dict:
    """Service-wide numbers in three queries, whatever the amount of data."""
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    month_ago = now - timedelta(days=30)
    mailings = (
        selectors.mailings_for_user(user)
        .order_by()
        .aggregate(
            total=Count("pk"),
            active=Count("pk", filter=Q(is_active=True, status=MailingStatus.RUNNING)),
            disabled=Count("pk", filter=Q(is_active=False)),
        )
    )
    attempts = (
        selectors.attempts_for_user(user)
        .filter(attempted_at__gte=month_ago)
        .order_by()
        .aggregate(
            sent_today=Count("pk", filter=Q(status=AttemptStatus.SUCCESS, attempted_at__gte=today)),
            failed_today=Count("pk", filter=Q(status=AttemptStatus.FAILED, attempted_at__gte=today)),
            sent_30_days=Count("pk", filter=Q(status=AttemptStatus.SUCCESS, attempted_at__gte=month_ago)),
            failed_30_days=Count("pk", filter=Q(status=AttemptStatus.FAILED, attempted_at__gte=month_ago)),
        )
    )
    return {
        "mailings": mailings["total"],
        "active_mailings": mailings["active"],
        "disabled_mailings": mailings["disabled"],
        "clients": selectors.clients_for_user(user).order_by().count(),
        **attempts,
    }


class ServiceTotalsPanel(Component):
    name = "mailsite_service_totals"
    template_name = "mailings/admin/service_totals_panel.html"
    order = 50

    def get_context_data(self, parent_context):
        request = parent_context["request"]
        return {"totals": service_totals(request.user), "request": request}
