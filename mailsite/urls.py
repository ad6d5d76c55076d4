from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from core import views as core_views
from home.sitemap import AllLanguagesSitemap

urlpatterns = [
    # Wagtail's password reset skips our rules (blocked users, throttle): ours serves it.
    path("admin/password_reset/", RedirectView.as_view(pattern_name="accounts:password_reset")),
    path("admin/", include(wagtailadmin_urls)),
    # Django's admin, for superusers: django-q2's schedules, tasks and failures live there.
    path("django-admin/", admin.site.urls),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("accounts.urls")),
    path("app/", include("mailings.urls")),
    path("api/v1/", include("api.urls")),
    path("unsubscribe/", include("mailings.unsubscribe_views")),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": AllLanguagesSitemap}}),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", core_views.favicon),
]

if settings.DEBUG:
    # The mail sink's outbox exists only in development.
    urlpatterns += [path("outbox/", include("core.outbox.urls"))]
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's pages live under /ru/ and /en/; LocaleMiddleware sends / (and any
# other unprefixed page URL) to the visitor's language. Everything above stays unprefixed.
# Wagtail's page serving catches everything else, so it comes last.
urlpatterns += i18n_patterns(path("", include(wagtail_urls)))
