"""Customer screens for mail as recipients see it: the live preview of a
message, "send a test to myself", and a client's subscription (unsubscribe,
subscribe again, clear a bounce)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mailings import selectors, services, subscriptions
from mailings.forms import PreviewForm
from mailings.models import BodyFormat, UnsubscribeSource
from mailings.rendering import CompiledMessage, PlaceholderError, Recipient, validate_placeholders
from mailings.views import customer_required

# The preview documents get their own policy: the email's inline styles, no script, no same origin.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox"


def _sample_recipient(user, client):
    if client is not None:
        url = subscriptions.unsubscribe_url(user.pk, None)
        return Recipient(email=client.email, full_name=client.full_name, unsubscribe_url=url)
    return Recipient(email="client@example.com", full_name=_("Alex Example"), unsubscribe_url="#")


def _preview_response(request, *, subject, body, body_format, client):
    part = "text" if request.GET.get("part") == "text" else "html"
    try:
        validate_placeholders(body)
    except PlaceholderError as exc:
        errors = exc.problems
    else:
        errors = []
    compiled = CompiledMessage(
        subject=subject, body=body, body_format=body_format, sender_name=request.user.mail_sender_name
    )
    text, html = compiled.render(_sample_recipient(request.user, client))
    if part == "html" and not errors:
        content = html
    else:
        content = render_to_string("mailings/preview_text.html", {"text": text, "errors": errors}, request=request)
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response


@customer_required
@require_POST
def message_render_draft(request):
    """The live preview of the message form (its unsaved fields), one part per request."""
    form = PreviewForm(request.POST, owner=request.user)
    form.is_valid()
    data = form.cleaned_data
    return _preview_response(
        request,
        subject=data.get("subject", ""),
        body=data.get("body", ""),
        body_format=data.get("body_format") or BodyFormat.MARKDOWN,
        client=data.get("preview_client"),
    )


@customer_required
@require_http_methods(["GET"])
def message_render(request, pk):
    message = get_object_or_404(selectors.owned_messages(request.user), pk=pk)
    form = PreviewForm({"preview_client": request.GET.get("client")}, owner=request.user)
    client = form.cleaned_data.get("preview_client") if form.is_valid() else None
    return _preview_response(
        request, subject=message.subject, body=message.body, body_format=message.body_format, client=client
    )


def _send_test(request, message, client):
    if services.message_send_test(message=message, client=client):
        messages.success(
            request,
            _("A test message is on its way to %(email)s. Find it in your inbox.") % {"email": request.user.email},
        )
    else:
        messages.warning(request, _("You sent a test a moment ago. Please wait a few seconds."))


@customer_required
@require_POST
def message_send_test(request, pk):
    message = get_object_or_404(selectors.owned_messages(request.user), pk=pk)
    form = PreviewForm(request.POST, owner=request.user)
    client = form.cleaned_data.get("preview_client") if form.is_valid() else None
    _send_test(request, message, client)
    return redirect("mailings:message_preview", pk=message.pk)


@customer_required
@require_POST
def mailing_send_test(request, pk):
    mailing = get_object_or_404(selectors.owned_mailings(request.user), pk=pk)
    client = mailing.clients.order_by("pk").first()
    _send_test(request, mailing.message, client)
    return redirect("mailings:mailing_detail", pk=mailing.pk)


SUBSCRIPTION_ACTIONS = {
    "unsubscribe": (
        lambda client: client.unsubscribed_at is None,
        lambda client: subscriptions.client_unsubscribe(client=client, source=UnsubscribeSource.OWNER),
    ),
    "resubscribe": (
        lambda client: client.unsubscribed_at is not None,
        lambda client: subscriptions.client_resubscribe(client=client),
    ),
    "clear-bounce": (
        lambda client: client.bounced_at is not None,
        lambda client: subscriptions.client_clear_bounce(client=client),
    ),
}


@customer_required
@require_http_methods(["GET", "POST"])
def client_subscription(request, pk, action):
    """GET asks to confirm; POST does it. Subscribing again is never a side effect of anything else."""
    client = get_object_or_404(selectors.owned_clients(request.user, perm="change"), pk=pk)
    applies, apply = SUBSCRIPTION_ACTIONS[action]
    if request.method == "POST":
        if applies(client):
            apply(client)
            messages.success(request, _("Client %(client)s saved.") % {"client": client})
        return redirect("mailings:client_update", pk=client.pk)
    return render(request, "mailings/client_subscription.html", {"client": client, "action": action})
