"""Background work of the blog, run by django-q2."""

from django.core.management import call_command

from blog import view_counts


def publish_scheduled_pages() -> None:
    """Publish pages whose go-live time has come and unpublish expired ones (Wagtail's scheduler)."""
    call_command("publish_scheduled", verbosity=0)


def flush_view_counts() -> int:
    """Copy the articles' view totals from Redis to the database (blog.view_counts)."""
    return view_counts.flush()
