from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    # Django's admin, for superusers: django-q2's schedules, tasks and failures live there.
    path("django-admin/", admin.site.urls),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("accounts.urls")),
    path("app/", include("mailings.urls")),
    path("unsubscribe/", include("mailings.unsubscribe_views")),
    path("sitemap.xml", sitemap),
]

if settings.DEBUG:
    # The mail sink's outbox exists only in development.
    urlpatterns += [path("outbox/", include("core.outbox.urls"))]
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's page serving catches everything else, so it comes last.
urlpatterns += [path("", include(wagtail_urls))]
