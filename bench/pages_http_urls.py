"""bench/pages_http.py's URLconf: the site's, plus a bare Django view to compare with."""

from django.http import HttpResponse
from django.urls import path

from mailsite.urls import urlpatterns as site_patterns


def trivial(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/trivial/", trivial), *site_patterns]
