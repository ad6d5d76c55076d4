from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from mailings import selectors


@login_required
def dashboard(request):
    user = request.user
    context = {
        "clients_count": selectors.clients_for_user(user).count(),
        "messages_count": selectors.messages_for_user(user).count(),
        "mailings_count": selectors.mailings_for_user(user).count(),
    }
    return render(request, "mailings/dashboard.html", context)
