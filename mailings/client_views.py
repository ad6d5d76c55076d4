"""The customer screens for clients under /app/clients/: list, create, edit, delete,
the CSV import and export, and the search behind the mailing form's client picker."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from mailings import selectors, services
from mailings.forms import ClientForm, ClientImportForm
from mailings.views import confirm_delete, csv_response, customer_required, page_of

IMPORT_ERRORS_SHOWN = 100
CLIENT_SEARCH_RESULTS = 50


@customer_required
@require_GET
def client_list(request):
    query = request.GET.get("q", "").strip()
    clients = selectors.client_search(selectors.owned_clients(request.user), query).order_by("email", "pk")
    return render(request, "mailings/client_list.html", {"page_obj": page_of(request, clients), "q": query})


@customer_required
@require_http_methods(["GET", "POST"])
def client_create(request):
    form = ClientForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            messages.success(request, _("Client %(client)s added.") % {"client": client})
            return redirect("mailings:client_list")
    return render(request, "mailings/client_form.html", {"form": form})


@customer_required
@require_http_methods(["GET", "POST"])
def client_update(request, pk):
    client = get_object_or_404(selectors.owned_clients(request.user, perm="change"), pk=pk)
    form = ClientForm(request.POST or None, instance=client, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(client=client, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            messages.success(request, _("Client %(client)s saved.") % {"client": client})
            return redirect("mailings:client_list")
    return render(request, "mailings/client_form.html", {"form": form, "client": client})


@customer_required
@require_http_methods(["GET", "POST"])
def client_delete(request, pk):
    client = get_object_or_404(selectors.owned_clients(request.user, perm="delete"), pk=pk)
    if request.method == "POST":
        services.client_delete(client=client)
        messages.success(request, _("Client %(client)s deleted.") % {"client": client})
        return redirect("mailings:client_list")
    return confirm_delete(request, client, cancel_url="mailings:client_list", title=_("Delete client"))


@customer_required
@require_http_methods(["GET", "POST"])
def client_import(request):
    form = ClientImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = services.clients_import(
            owner=request.user, file=form.cleaned_data["file"].file, on_existing=form.cleaned_data["on_existing"]
        )
        if report.fatal:
            messages.error(request, _("Nothing was imported: %(reason)s") % {"reason": report.fatal})
        else:
            messages.success(
                request,
                ngettext(
                    "Import finished: %(created)s added, %(updated)s updated, %(skipped)s skipped, %(bad)s bad row.",
                    "Import finished: %(created)s added, %(updated)s updated, %(skipped)s skipped, %(bad)s bad rows.",
                    report.error_count,
                )
                % {
                    "created": report.created,
                    "updated": report.updated,
                    "skipped": report.skipped,
                    "bad": report.error_count,
                },
            )
        # The report is the answer to this upload: shown at once, not stored.
        context = {
            "form": ClientImportForm(),
            "report": report,
            "errors_shown": report.errors[:IMPORT_ERRORS_SHOWN],
            "errors_hidden": report.error_count - min(len(report.errors), IMPORT_ERRORS_SHOWN),
        }
        return render(request, "mailings/client_import.html", context, status=200 if report.ok else 400)
    return render(request, "mailings/client_import.html", {"form": form})


@customer_required
@require_GET
def client_search(request):
    """Clients matching ?q= as JSON, for the mailing form's client picker."""
    query = request.GET.get("q", "").strip()
    if len(query) < 2:
        return JsonResponse({"results": []})
    clients = selectors.client_search(selectors.owned_clients(request.user), query).order_by("email", "pk")
    results = [
        {"id": pk, "email": email, "full_name": full_name}
        for pk, email, full_name in clients.values_list("pk", "email", "full_name")[:CLIENT_SEARCH_RESULTS]
    ]
    return JsonResponse({"results": results})


@customer_required
@require_GET
def client_export(request):
    rows = selectors.clients_export_rows(selectors.owned_clients(request.user))
    filename = f"clients-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, ["email", "full_name", "comment", "unsubscribed"], rows)
