"""The recipient's side of unsubscribing: public pages, no login.

GET shows one button (link scanners that follow links unsubscribe no one);
POST unsubscribes at once. A mail client's RFC 8058 one-click POST carries
no CSRF token, so the POST is exempt: the signed token is the authority.
"""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from mailings import subscriptions
from mailings.models import UnsubscribeSource

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
# The recipient may undo only what they did themselves.
SELF_SERVICE = (UnsubscribeSource.LINK, UnsubscribeSource.ONE_CLICK, UnsubscribeSource.EMAIL)


def _scope(token):
    try:
        return subscriptions.read_token(token)
    except subscriptions.BadTokenError:
        return None


def _page(request, context, status=200):
    return render(request, "mailings/unsubscribe.html", context, status=status)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    scope = _scope(token)
    if scope is None:
        return _page(request, {"state": "invalid"}, status=404)
    if scope.is_test:
        return _page(request, {"state": "test"})
    client = subscriptions.client_for_token(scope)
    if client is None:
        return _page(request, {"state": "gone"})
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        source = UnsubscribeSource.ONE_CLICK if one_click else UnsubscribeSource.LINK
        subscriptions.client_unsubscribe(client=client, source=source)
        if one_click:
            return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
        return redirect("unsubscribe", token=token)
    context = {
        "state": "unsubscribed" if client.unsubscribed_at else "subscribed",
        "client": client,
        "sender_name": client.owner.mail_sender_name,
        "can_undo": client.unsubscribe_source in SELF_SERVICE,
        "token": token,
    }
    return _page(request, context)


@require_POST
def resubscribe(request, token):
    """The way back for a recipient who unsubscribed by mistake: an explicit button."""
    scope = _scope(token)
    client = subscriptions.client_for_token(scope) if scope and not scope.is_test else None
    if client is not None and client.unsubscribe_source in SELF_SERVICE:
        subscriptions.client_resubscribe(client=client)
    return redirect("unsubscribe", token=token)


urlpatterns = [
    path("<str:token>/", unsubscribe, name="unsubscribe"),
    path("<str:token>/resubscribe/", resubscribe, name="unsubscribe_undo"),
]
