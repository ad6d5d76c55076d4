"""Reads: the one place that decides what a user may see.

Every list, detail, export and count of clients, messages, mailings and
attempts, on the customer screens and in the Wagtail admin alike, starts from
these functions. They ask django-guardian; a user with the model-level view
permission (managers) and superusers see every row.
"""

from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.db.models import Case, Count, F, FloatField, Max, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from core.normalize import normalize_email
from mailings import subscriptions
from mailings.models import Attempt, Client, Mailing, MailingStatus, Message, Run
from mailings.rendering import CompiledMessage, Recipient


def _visible(user, model, queryset=None, perm="view", *, owned_only=False):
    """Rows of `model` the user holds `perm` on. `owned_only` ignores model-level
    permissions and superuser status: object permissions alone decide."""
    if user is None or not user.is_authenticated:
        return model.objects.none()
    codename = f"{model._meta.app_label}.{perm}_{model._meta.model_name}"
    return get_objects_for_user(
        user,
        codename,
        klass=queryset if queryset is not None else model.objects.all(),
        with_superuser=not owned_only,
        accept_global_perms=not owned_only,
    )


def clients_for_user(user, *, perm="view"):
    return _visible(user, Client, perm=perm)


def messages_for_user(user, *, perm="view"):
    return _visible(user, Message, perm=perm)


def mailings_for_user(user, *, perm="view"):
    return _visible(user, Mailing, Mailing.objects.select_related("message", "owner"), perm=perm)


def runs_for_user(user):
    return Run.objects.filter(mailing__in=mailings_for_user(user).values("pk"))


def attempts_for_user(user):
    return Attempt.objects.filter(mailing__in=mailings_for_user(user).values("pk"))


# --- The customer screens ------------------------------------------------------
# The screens under /app/ are the owner's workspace: they show only what the user
# holds object permissions on. Global (model-level) permissions and superuser
# status are ignored here on purpose, so a manager or a superuser visiting /app/
# sees their own objects, not everybody's (they oversee everything in the admin).


def _owned(user, model, queryset=None, perm="view"):
    return _visible(user, model, queryset, perm, owned_only=True)


def owned_clients(user, *, perm="view"):
    return _owned(user, Client, perm=perm)


def owned_messages(user, *, perm="view"):
    return _owned(user, Message, perm=perm)


def owned_mailings(user, *, perm="view"):
    return _owned(user, Mailing, Mailing.objects.select_related("message"), perm=perm)


def owned_runs(user, *, perm="view"):
    """Runs of the mailings the user owns (with `perm` on the mailing)."""
    return Run.objects.filter(mailing__in=owned_mailings(user, perm=perm).values("pk"))


def owned_attempts(user):
    return Attempt.objects.filter(mailing__in=owned_mailings(user).values("pk"))


def client_search(queryset, query: str):
    """The client list's search box: email or name contains the text."""
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(Q(email__icontains=query) | Q(full_name__icontains=query))


def clients_filter(queryset, *, email: str | None = None, unsubscribed: bool | None = None, bounced=None):
    """The API's client filters: an exact (normalised) email; unsubscribed or not; bounced or not."""
    if email is not None:
        queryset = queryset.filter(email=normalize_email(email))
    if unsubscribed is not None:
        queryset = queryset.filter(unsubscribed_at__isnull=not unsubscribed)
    if bounced is not None:
        queryset = queryset.filter(bounced_at__isnull=not bounced)
    return queryset


def client_ids_by_email(*, owner, emails) -> dict[str, int]:
    """Which of these (normalised) emails the owner already has: uniqueness is per owner row."""
    return dict(Client.objects.filter(owner=owner, email__in=list(emails)).values_list("email", "pk"))


def client_email_taken(*, owner, email: str, exclude_pk=None) -> bool:
    qs = Client.objects.filter(owner=owner, email=email)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _rate(sent, failed):
    """Success rate in percent, or None before anything was sent."""
    return Case(
        When(Q(**{f"{sent}__gt": 0}) | Q(**{f"{failed}__gt": 0}), then=100.0 * F(sent) / (F(sent) + F(failed))),
        default=None,
        output_field=FloatField(),
    )


def _recipients_count():
    through = Mailing.clients.through
    return Coalesce(
        Subquery(
            through.objects.filter(mailing_id=OuterRef("pk"))
            .order_by()
            .values("mailing_id")
            .annotate(n=Count("*"))
            .values("n")[:1]
        ),
        0,
    )


def with_stats(mailings):
    """Mailings with their run counters summed in the same query (never a scan of attempts)."""
    return (
        mailings.annotate(
            runs_total=Count("runs"),
            sent_total=Coalesce(Sum("runs__sent_count"), 0),
            failed_total=Coalesce(Sum("runs__failed_count"), 0),
            suppressed_total=Coalesce(Sum("runs__suppressed_count"), 0),
            last_run_at=Max("runs__started_at"),
            recipients_total=_recipients_count(),
        )
        .annotate(
            attempts_total=F("sent_total") + F("failed_total"),
            success_rate=_rate("sent_total", "failed_total"),
        )
        # GROUP BY queries drop Meta.ordering; pages need a stable one.
        .order_by("-created_at", "-id")
    )


def owned_mailings_with_stats(user):
    return with_stats(owned_mailings(user))


def run_totals(runs) -> dict:
    """The reports page's bottom line over these runs, summed in one query."""
    totals = runs.aggregate(
        runs=Count("pk"),
        sent=Coalesce(Sum("sent_count"), 0),
        failed=Coalesce(Sum("failed_count"), 0),
        suppressed=Coalesce(Sum("suppressed_count"), 0),
    )
    totals["attempts"] = totals["sent"] + totals["failed"]
    totals["success_rate"] = _percent(totals["sent"], totals["failed"])
    return totals


def report_totals(user) -> dict:
    """The reports page's bottom line: all of the user's runs."""
    return run_totals(owned_runs(user))


def _percent(sent, failed):
    return 100.0 * sent / (sent + failed) if (sent + failed) else None


def dashboard_stats(user, *, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    by_status = dict(owned_mailings(user).order_by().values_list("status").annotate(n=Count("pk")))
    recent = (
        owned_runs(user)
        .filter(started_at__gte=since)
        .aggregate(sent=Coalesce(Sum("sent_count"), 0), failed=Coalesce(Sum("failed_count"), 0))
    )
    return {
        "clients_count": owned_clients(user).count(),
        "messages_count": owned_messages(user).count(),
        "mailings_count": sum(by_status.values()),
        "mailings_by_status": [(label, by_status.get(value, 0)) for value, label in MailingStatus.choices],
        "disabled_count": owned_mailings(user).filter(is_active=False).count(),
        "days": days,
        "sent_recent": recent["sent"],
        "failed_recent": recent["failed"],
        "success_rate_recent": _percent(recent["sent"], recent["failed"]),
    }


def mailing_runs(user, mailing):
    return owned_runs(user).filter(mailing=mailing)


def mailing_totals(user, mailing) -> dict:
    totals = mailing_runs(user, mailing).aggregate(
        runs=Count("pk"),
        sent=Coalesce(Sum("sent_count"), 0),
        failed=Coalesce(Sum("failed_count"), 0),
        suppressed=Coalesce(Sum("suppressed_count"), 0),
    )
    totals["success_rate"] = _percent(totals["sent"], totals["failed"])
    return totals


def mailing_attempts(user, mailing, *, status: str | None = None):
    qs = owned_attempts(user).filter(mailing=mailing)
    if status:
        qs = qs.filter(status=status)
    return qs


def mailing_recipient_ids(mailing) -> set[int]:
    return set(mailing.clients.values_list("pk", flat=True))


def clients_export_rows(queryset):
    """Rows of the clients CSV, in the import's own format."""
    rows = queryset.order_by("email", "pk").values_list("email", "full_name", "comment", "unsubscribed_at")
    return ((*row[:3], "yes" if row[3] else "") for row in rows.iterator(chunk_size=2000))


def attempts_export_rows(queryset):
    return (
        queryset.order_by("-attempted_at", "-id")
        .values_list("attempted_at", "email", "status", "is_temporary", "smtp_code", "server_reply", "run_id")
        .iterator(chunk_size=2000)
    )


def message_preview(message, client) -> dict:
    """What `client` would receive: the subject, the text part and the HTML part, personalised."""
    owner = message.owner
    compiled = CompiledMessage(
        subject=message.subject, body=message.body, body_format=message.body_format, sender_name=owner.mail_sender_name
    )
    recipient = Recipient(
        email=client.email,
        full_name=client.full_name,
        unsubscribe_url=subscriptions.unsubscribe_url(owner.pk, client.pk),
    )
    text, html = compiled.render(recipient)
    default_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return {
        "from_email": formataddr((owner.mail_sender_name or default_name, address)),
        "to": client.email,
        "subject": message.subject,
        "body": text,
        "html_body": html,
    }
