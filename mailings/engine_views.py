"""The sending engine's one screen action: retry a finished run's failed recipients."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from mailings import selectors, sending


@login_required
@require_POST
def run_retry_failed(request, pk):
    """Send again, in the same run, to those whose last attempt failed.
    Another user's run is a 404."""
    changeable = selectors.mailings_for_user(request.user, perm="change").values("pk")
    runs = selectors.runs_for_user(request.user).filter(mailing__in=changeable)
    run = get_object_or_404(runs.select_related("mailing__owner"), pk=pk)
    count = sending.retry_failed(run=run)
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
        messages.info(request, gettext("Nothing to retry: the run is not finished, or none of its recipients failed."))
    target = request.POST.get("next", "")
    hosts = {request.get_host()}
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts=hosts, require_https=request.is_secure())
    return HttpResponseRedirect(target) if safe and target else redirect("mailings:dashboard")


# Appended to mailings.urls (namespace "mailings").
urlpatterns = [
    path("runs/<int:pk>/retry-failed/", run_retry_failed, name="run_retry_failed"),
]
