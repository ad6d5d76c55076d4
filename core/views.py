"""Site-wide views that belong to no app."""

from django.shortcuts import redirect
from django.templatetags.static import static


def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links; send them to the hashed static file."""
    return redirect(static("favicon.ico"))
