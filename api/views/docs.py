"""The API's documentation page: Swagger UI from drf-spectacular-sidecar, served
from our static files. Its start-up code is a static file too (static/js/api-docs.js),
so the page needs no inline script under the Content-Security-Policy."""

from drf_spectacular.views import SpectacularSwaggerView


class ApiDocsView(SpectacularSwaggerView):
    template_name = "api/docs.html"
    url_name = "api:schema"
