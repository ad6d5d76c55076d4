"""The customer screens under /app/: thin views over the selectors and services.

Every object is fetched through `selectors.owned_*`, so another user's object
answers 404 on GET and POST alike.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mailings import charts, progress, selectors, services, transitions
from mailings.forms import AttemptFilterForm, MailingForm, MessageForm
from mailings.imports import csv_lines
from mailings.transitions import OwnerAction

PER_PAGE = 25
LATEST_ATTEMPTS = 10
PREVIEW_CLIENTS = 200


def customer_required(view):
    """Logged in (blocked users are logged out by middleware) and with a verified email."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_verified:
            return render(request, "mailings/unverified.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def page_of(request, queryset, param="page"):
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get(param))


def csv_response(filename, header, rows):
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def read_only(request):
    """Read-only object pages check the method after the lookup, so a stranger gets 404 whatever the method."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return None


def confirm_delete(request, obj, *, cancel_url, title):
    return render(request, "mailings/confirm_delete.html", {"object": obj, "cancel_url": cancel_url, "title": title})


# --- Dashboard --------------------------------------------------------------------


@customer_required
@require_GET
def dashboard(request):
    return render(request, "mailings/dashboard.html", selectors.dashboard_stats(request.user))


# --- Messages ---------------------------------------------------------------------


@customer_required
@require_GET
def message_list(request):
    return render(
        request, "mailings/message_list.html", {"page_obj": page_of(request, selectors.owned_messages(request.user))}
    )


@customer_required
@require_http_methods(["GET", "POST"])
def message_create(request):
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        message = services.message_create(owner=request.user, **form.cleaned_data)
        messages.success(request, _("Message “%(subject)s” saved.") % {"subject": message.subject})
        return redirect("mailings:message_preview", pk=message.pk)
    return render(request, "mailings/message_form.html", _message_form_context(request, form))


@customer_required
def message_preview(request, pk):
    message = get_object_or_404(selectors.owned_messages(request.user), pk=pk)
    if not_allowed := read_only(request):
        return not_allowed
    selected = request.GET.get("preview_client", "")
    selected = int(selected) if selected.isdigit() else None
    render_src = reverse("mailings:message_render", args=[message.pk]) + f"?client={selected or ''}"
    context = {
        "message": message,
        "preview_clients": message_preview_clients(request.user),
        "selected_client": selected,
        "render_src": render_src,
    }
    return render(request, "mailings/message_preview.html", context)


def _message_form_context(request, form, **extra):
    return {"form": form, "preview_clients": message_preview_clients(request.user), **extra}


def message_preview_clients(user):
    """The clients a message preview can be rendered for: the latest added first
    (a list of any size stays a short menu)."""
    return selectors.owned_clients(user).order_by("-created_at", "-pk")[:PREVIEW_CLIENTS]


@customer_required
@require_http_methods(["GET", "POST"])
def message_update(request, pk):
    message = get_object_or_404(selectors.owned_messages(request.user, perm="change"), pk=pk)
    form = MessageForm(request.POST or None, instance=message)
    if request.method == "POST" and form.is_valid():
        services.message_update(message=message, **form.cleaned_data)
        messages.success(request, _("Message “%(subject)s” saved.") % {"subject": message.subject})
        return redirect("mailings:message_preview", pk=message.pk)
    return render(request, "mailings/message_form.html", _message_form_context(request, form, message=message))


@customer_required
@require_http_methods(["GET", "POST"])
def message_delete(request, pk):
    message = get_object_or_404(selectors.owned_messages(request.user, perm="delete"), pk=pk)
    if request.method == "POST":
        try:
            services.message_delete(message=message)
        except services.MessageInUseError as exc:
            messages.error(request, exc.messages[0])
            return redirect("mailings:message_preview", pk=message.pk)
        messages.success(request, _("Message “%(subject)s” deleted.") % {"subject": message.subject})
        return redirect("mailings:message_list")
    return confirm_delete(request, message, cancel_url="mailings:message_list", title=_("Delete message"))


# --- Mailings ---------------------------------------------------------------------


@customer_required
@require_GET
def mailing_list(request):
    mailings = selectors.owned_mailings_with_stats(request.user)
    return render(request, "mailings/mailing_list.html", {"page_obj": page_of(request, mailings)})


@customer_required
@require_http_methods(["GET", "POST"])
def mailing_create(request):
    form = MailingForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            mailing = services.mailing_create(owner=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Mailing %(mailing)s created.") % {"mailing": mailing})
            return redirect("mailings:mailing_detail", pk=mailing.pk)
    return render(request, "mailings/mailing_form.html", {"form": form})


@customer_required
@require_http_methods(["GET", "POST"])
def mailing_update(request, pk):
    mailing = get_object_or_404(selectors.owned_mailings(request.user, perm="change"), pk=pk)
    form = MailingForm(request.POST or None, instance=mailing, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.mailing_update(mailing=mailing, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Mailing %(mailing)s saved.") % {"mailing": mailing})
            return redirect("mailings:mailing_detail", pk=mailing.pk)
    return render(request, "mailings/mailing_form.html", {"form": form, "mailing": mailing})


@customer_required
@require_http_methods(["GET", "POST"])
def mailing_delete(request, pk):
    mailing = get_object_or_404(selectors.owned_mailings(request.user, perm="delete"), pk=pk)
    if request.method == "POST":
        label = str(mailing)
        services.mailing_delete(mailing=mailing)
        messages.success(request, _("Mailing %(mailing)s deleted.") % {"mailing": label})
        return redirect("mailings:mailing_list")
    return confirm_delete(request, mailing, cancel_url="mailings:mailing_list", title=_("Delete mailing"))


def _progress_context(user, mailing) -> dict:
    return {
        "mailing": mailing,
        "progress": progress.mailing_progress(mailing, selectors.owned_runs(user)),
        "owner_actions": transitions.owner_actions(mailing),
        "controls_locked": transitions.controls_locked(mailing),
    }


@customer_required
def mailing_detail(request, pk):
    user = request.user
    mailing = get_object_or_404(selectors.owned_mailings(user).select_related("disabled_by", "owner"), pk=pk)
    if not_allowed := read_only(request):
        return not_allowed
    runs_page = page_of(request, selectors.mailing_runs(user, mailing), param="runs_page")
    progress_context = _progress_context(user, mailing)
    context = {
        **progress_context,
        "runs_chart": charts.mailing_runs_chart(selectors.mailing_runs(user, mailing)),
        "recipients_count": mailing.clients.count(),
        "runs_page": runs_page,
        "latest_run": progress_context["progress"].run,
        "totals": selectors.mailing_totals(user, mailing),
        "latest_attempts": selectors.mailing_attempts(user, mailing)[:LATEST_ATTEMPTS],
    }
    return render(request, "mailings/mailing_detail.html", context)


@customer_required
@require_GET
def mailing_progress(request, pk):
    """The live progress fragment the mailing page polls (htmx) while a run is at work."""
    mailing = get_object_or_404(selectors.owned_mailings(request.user).select_related("owner"), pk=pk)
    return render(request, "mailings/includes/run_progress.html", _progress_context(request.user, mailing))


ACTION_DONE = {
    OwnerAction.START_NOW: _("Mailing %(mailing)s starts now."),
    OwnerAction.PAUSE: _("Mailing %(mailing)s paused: recipients being sent right now finish, nobody else is sent."),
    OwnerAction.RESUME: _("Mailing %(mailing)s resumed where it stopped."),
    OwnerAction.CANCEL: _("Mailing %(mailing)s cancelled: the recipients not yet sent are recorded as not sent."),
}


@customer_required
@require_http_methods(["GET", "POST"])
def mailing_action(request, pk, action):
    """Start now, pause, resume or cancel (owner only; cancelling asks first)."""
    mailing = get_object_or_404(selectors.owned_mailings(request.user, perm="change").select_related("owner"), pk=pk)
    if action not in OwnerAction.values:
        raise Http404
    action = OwnerAction(action)
    if request.method == "GET":
        if action != OwnerAction.CANCEL:
            return redirect("mailings:mailing_detail", pk=mailing.pk)
        return render(request, "mailings/mailing_cancel.html", {"mailing": mailing})
    try:
        services.mailing_control(mailing=mailing, action=action)
    except transitions.TransitionError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, ACTION_DONE[action] % {"mailing": mailing})
    return redirect("mailings:mailing_detail", pk=mailing.pk)


@customer_required
def mailing_attempts(request, pk):
    mailing = get_object_or_404(selectors.owned_mailings(request.user), pk=pk)
    if not_allowed := read_only(request):
        return not_allowed
    form = AttemptFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    attempts = selectors.mailing_attempts(request.user, mailing, status=status)
    context = {"mailing": mailing, "form": form, "status": status, "page_obj": page_of(request, attempts)}
    return render(request, "mailings/mailing_attempts.html", context)


@customer_required
def mailing_attempts_export(request, pk):
    mailing = get_object_or_404(selectors.owned_mailings(request.user), pk=pk)
    if not_allowed := read_only(request):
        return not_allowed
    form = AttemptFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    rows = (
        (timezone.localtime(at).isoformat(timespec="seconds"), *rest)
        for at, *rest in selectors.attempts_export_rows(
            selectors.mailing_attempts(request.user, mailing, status=status)
        )
    )
    header = ["time", "email", "status", "temporary", "smtp_code", "server_reply", "run"]
    # No quotes inside the f-string: xgettext (makemessages) misreads the rest of the file after one.
    suffix = f"-{status}" if status else ""
    return csv_response(f"mailing-{mailing.pk}-attempts{suffix}.csv", header, rows)


@customer_required
@require_POST
def run_retry_failed(request, pk):
    """Send again, in the same run, to those whose last attempt failed."""
    run = get_object_or_404(selectors.owned_runs(request.user, perm="change").select_related("mailing__owner"), pk=pk)
    count = services.run_retry_failed(run=run)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d failed recipient will be sent again.",
                "%(count)d failed recipients will be sent again.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.info(request, _("Nothing to retry: the run is not finished, or none of its recipients failed."))
    target = request.POST.get("next", "")
    hosts = {request.get_host()}
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure())
    return HttpResponseRedirect(target) if safe and target else redirect("mailings:dashboard")


# --- Reports ----------------------------------------------------------------------


@customer_required
@require_GET
def reports(request):
    context = {
        "page_obj": page_of(request, selectors.owned_mailings_with_stats(request.user)),
        "totals": selectors.report_totals(request.user),
        "daily_chart": charts.daily_chart(selectors.owned_attempts(request.user)),
        "rates_chart": charts.run_rates_chart(selectors.owned_runs(request.user)),
    }
    return render(request, "mailings/reports.html", context)
