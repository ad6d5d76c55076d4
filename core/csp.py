"""Content-Security-Policy: strict everywhere, relaxed only where Wagtail's and
Django's admins need it (they still ship inline scripts and styles)."""

from csp.middleware import CSPMiddleware
from django.conf import settings


class MailsiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only and parts.config is None and request.path_info.startswith(settings.CSP_ADMIN_PREFIXES):
            parts.config = settings.CSP_ADMIN_DIRECTIVES
        return parts
