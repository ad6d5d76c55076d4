"""The read-only Wagtail admin every app builds on.

- `ReadOnlyPermissionHelper` and `SelectorModelAdmin`: wagtail-modeladmin
  classes whose rows always come from a selector and that never create, edit or
  delete (the admin is read-only for every role; owners edit on the customer
  screens).
- `refuse_with_403`: Wagtail answers a refused admin request with a redirect to
  the dashboard; our admin URLs answer 403 instead, so a refusal is a refusal.
- `confirm_action`: the one confirm-then-act view (disable, enable, block,
  unblock), and the log formatter that shows the reason given.
"""

from functools import wraps

from django import forms
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.admin_url_finder import register_admin_url_finder
from wagtail.log_actions import LogFormatter
from wagtail.log_actions import registry as log_registry
from wagtail.utils.urlpatterns import decorate_urlpatterns
from wagtail_modeladmin.helpers import ButtonHelper, PermissionHelper
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import InspectView

from core.admin_index import FilterSafeIndexView

LATEST_LOG_ENTRIES = 10
REASON_MAX_LENGTH = 2000


def refuse_with_403(view_func):
    """Turn a PermissionDenied into a real 403 page (Wagtail would redirect)."""

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        try:
            return view_func(request, *args, **kwargs)
        except PermissionDenied:
            return TemplateResponse(request, "core/admin/forbidden.html", status=403)

    return wrapped


def parse_pk(instance_pk) -> int:
    try:
        return int(unquote(str(instance_pk)))
    except ValueError as exc:
        raise Http404 from exc


class ReadOnlyPermissionHelper(PermissionHelper):
    """Listing and inspecting need the model-level view permission (managers,
    superusers); nobody creates, edits or deletes these rows in the admin."""

    def user_can_list(self, user):
        return user.has_perm(f"{self.opts.app_label}.{self.get_perm_codename('view')}")

    def user_can_inspect_obj(self, user, obj):
        return self.inspect_view_enabled and self.user_can_list(user)

    def user_can_create(self, user):
        return False

    def user_can_edit_obj(self, user, obj):
        return False

    def user_can_delete_obj(self, user, obj):
        return False


class ActionButtonHelper(ButtonHelper):
    """Inspect and History on every row; subclasses add their own actions."""

    def url_for(self, action, obj):
        return self.url_helper.get_action_url(action, quote(obj.pk))

    def button(self, action, obj, label, classname="button button-small button-secondary"):
        return {"url": self.url_for(action, obj), "label": label, "classname": classname, "title": label}

    def extra_buttons_for_obj(self, obj):
        return []

    def get_buttons_for_obj(self, obj, exclude=None, classnames_add=None, classnames_exclude=None):
        exclude = exclude or []
        buttons = super().get_buttons_for_obj(obj, exclude, classnames_add, classnames_exclude)
        buttons.extend(self.extra_buttons_for_obj(obj))
        if "history" not in exclude and self.permission_helper.user_can_list(self.request.user):
            buttons.append(self.button("history", obj, gettext("History")))
        return buttons


class SelectorModelAdmin(ModelAdmin):
    """A read-only modeladmin whose list, inspect and history views take their
    rows from a selector, so the admin shows exactly what the user may see."""

    permission_helper_class = ReadOnlyPermissionHelper
    button_helper_class = ActionButtonHelper
    index_view_class = FilterSafeIndexView
    inspect_view_enabled = True
    list_per_page = 50

    def rows_for(self, user):
        raise NotImplementedError

    def get_queryset(self, request):
        qs = self.rows_for(request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def require_visible(self, request, instance_pk):
        # 403 before 404: a refused user learns nothing about which rows exist.
        if not self.permission_helper.user_can_list(request.user):
            raise PermissionDenied
        pk = parse_pk(instance_pk)
        if not self.rows_for(request.user).filter(pk=pk).exists():
            raise Http404
        return pk

    def inspect_view(self, request, instance_pk):
        self.require_visible(request, instance_pk)
        return super().inspect_view(request, instance_pk)

    def history_view(self, request, instance_pk):
        self.require_visible(request, instance_pk)
        return super().history_view(request, instance_pk)

    # The admin never writes these rows: refused before any form is built.
    def create_view(self, request):
        raise PermissionDenied

    def edit_view(self, request, instance_pk):
        raise PermissionDenied

    def delete_view(self, request, instance_pk):
        raise PermissionDenied

    def get_extra_admin_urls(self):
        return ()

    def get_admin_urls_for_registration(self):
        urls = list(super().get_admin_urls_for_registration()) + list(self.get_extra_admin_urls())
        return tuple(decorate_urlpatterns(urls, refuse_with_403))

    def register_admin_url_finders(self):
        # Log entries in the site history report link to the inspect view.
        model_admin = self

        class InspectURLFinder:
            def __init__(self, user):
                self.user = user

            def get_edit_url(self, instance):
                if self.user is None or model_admin.permission_helper.user_can_inspect_obj(self.user, instance):
                    return model_admin.url_helper.get_action_url("inspect", quote(instance.pk))
                return None

        register_admin_url_finder(self.model, InspectURLFinder)


def latest_log_entries(instance):
    return (
        log_registry.get_logs_for_instance(instance)
        .select_related("user")
        .order_by("-timestamp", "-id")[:LATEST_LOG_ENTRIES]
    )


class HistoryInspectView(InspectView):
    """The inspect view with the object's latest log entries and a History link."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["log_entries"] = latest_log_entries(self.instance)
        context["history_url"] = self.url_helper.get_action_url("history", self.pk_quoted)
        return context


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The owner sees this reason."),
    )


def render_confirm(request, *, title, subject, question, button_label, form=None, back_url, status=200):
    return TemplateResponse(
        request,
        "core/admin/confirm_action.html",
        {
            "title": title,
            "subject": subject,
            "question": question,
            "button_label": button_label,
            "form": form,
            "back_url": back_url,
        },
        status=status,
    )


def confirm_action(
    request, *, subject, back_url, refused, perform, done, title, question, button_label, ask_reason=False
):
    """The admin's confirm-then-act views (disable, enable, block, unblock).

    `refused`: a warning when the action does not apply (already done);
    `perform(reason)` runs on a valid POST; with `ask_reason` a reason is required."""
    if refused:
        messages.warning(request, refused)
        return redirect(back_url)
    form = ReasonForm(request.POST or None) if ask_reason else None
    if request.method == "POST" and (form is None or form.is_valid()):
        perform(form.cleaned_data["reason"] if form else "")
        messages.success(request, done)
        return redirect(back_url)
    return render_confirm(
        request,
        title=title,
        subject=subject,
        question=question,
        button_label=button_label,
        form=form,
        back_url=back_url,
        status=400 if form is not None and form.errors else 200,
    )


class ReasonLogFormatter(LogFormatter):
    """A log entry whose data carries the reason given for the action."""

    def format_message(self, log_entry):
        reason = (log_entry.data or {}).get("reason")
        if reason:
            return gettext("%(message)s: %(reason)s") % {"message": self.message, "reason": reason}
        return str(self.message)

    def format_comment(self, log_entry):
        return (log_entry.data or {}).get("reason", "")


def reason_formatter(label, message):
    return type("_ReasonLogFormatter", (ReasonLogFormatter,), {"label": label, "message": message})
