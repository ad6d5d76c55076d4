"""Background work of the blog, run by django-q2."""

from django.core.management import call_command


def publish_scheduled_pages() -> None:
    """Publish pages whose go-live time has come and unpublish expired ones (Wagtail's scheduler)."""
    call_command("publish_scheduled", verbosity=0)
