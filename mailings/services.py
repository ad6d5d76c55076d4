"""Writes to the mailing domain. Views, forms, the admin and tasks call these."""

import logging

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_q.tasks import async_task
from guardian.shortcuts import assign_perm
from wagtail.log_actions import log

from core.normalize import normalize_email
from mailings import engine, selectors, transitions
from mailings.imports import (
    ClientRow,
    ImportFailedError,
    ImportReport,
    OnExisting,
    read_client_dicts,
    read_clients_csv,
)
from mailings.models import (
    BodyFormat,
    Client,
    ClientUserObjectPermission,
    Mailing,
    Message,
    Run,
    UnsubscribeSource,
)
from mailings.signals import mailings_changed
from mailings.transitions import OwnerAction

logger = logging.getLogger(__name__)

OWNER_PERMS = ("view", "change", "delete")
TEST_SEND_KEY_PREFIX = "mailings:test-send:"


def grant_owner_perms(obj, user):
    """The owner of a new client, message or mailing may view, change and delete it."""
    model_name = obj._meta.model_name
    for perm in OWNER_PERMS:
        assign_perm(f"{obj._meta.app_label}.{perm}_{model_name}", user, obj)


@transaction.atomic
def mailing_disable(*, mailing: Mailing, by, reason: str) -> Mailing:
    """A manager turns a mailing off: it starts nothing new and a run in progress stops."""
    mailing.is_active = False
    mailing.disabled_at = timezone.now()
    mailing.disabled_by = by
    mailing.disabled_reason = reason
    mailing.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason", "updated_at"])
    # The audit trail is written here so that every path (admin, command) logs.
    log(instance=mailing, action="mailsite.mailing.disable", user=by, data={"reason": reason})
    _replan_after_commit(mailing)
    return mailing


@transaction.atomic
def mailing_enable(*, mailing: Mailing, by) -> Mailing:
    mailing.is_active = True
    mailing.disabled_at = None
    mailing.disabled_by = None
    mailing.disabled_reason = ""
    mailing.save(update_fields=["is_active", "disabled_at", "disabled_by", "disabled_reason", "updated_at"])
    log(instance=mailing, action="mailsite.mailing.enable", user=by, data={})
    _replan_after_commit(mailing)
    return mailing


# --- Clients ----------------------------------------------------------------------


class DuplicateClientError(ValidationError):
    pass


def _duplicate(email):
    return DuplicateClientError(
        _("You already have a client with the email %(email)s."), code="duplicate", params={"email": email}
    )


def _check_email_free(*, owner, email, exclude_pk=None):
    if selectors.client_email_taken(owner=owner, email=email, exclude_pk=exclude_pk):
        raise _duplicate(email)


@transaction.atomic
def client_create(*, owner, email: str, full_name: str = "", comment: str = "") -> Client:
    email = normalize_email(email)
    _check_email_free(owner=owner, email=email)
    try:
        with transaction.atomic():
            client = Client.objects.create(
                owner=owner, email=email, full_name=full_name.strip(), comment=comment.strip()
            )
    except IntegrityError as exc:  # the same email saved at the same moment by another request
        raise _duplicate(email) from exc
    grant_owner_perms(client, owner)
    return client


@transaction.atomic
def client_update(*, client: Client, email: str, full_name: str = "", comment: str = "") -> Client:
    email = normalize_email(email)
    _check_email_free(owner=client.owner_id, email=email, exclude_pk=client.pk)
    client.email = email
    client.full_name = full_name.strip()
    client.comment = comment.strip()
    client.save()
    return client


@transaction.atomic
def client_delete(*, client: Client) -> None:
    # Its mailings lose it as a recipient; past attempts keep the email they were sent to.
    client.delete()


IMPORT_BATCH_SIZE = 1000


def clients_import(*, owner, file, on_existing: str = OnExisting.SKIP) -> ImportReport:
    """Import clients from a CSV upload (see mailings.imports for the format).

    Good rows are written in batches inside ONE transaction; a fatal error (wrong
    encoding, no header) rolls everything back and is reported in `fatal`.
    Queries grow with the number of batches, never with the number of rows.
    """
    report = ImportReport()
    return _write_client_rows(owner, lambda: read_clients_csv(file, report), on_existing, report)


def clients_upsert(*, owner, rows: list, on_existing: str = OnExisting.UPDATE) -> ImportReport:
    """The API's bulk upsert: a list of {"email", "full_name", "comment"} objects, each
    checked as a CSV line is (mailings.imports.read_client_dicts) and written exactly
    as the CSV import writes; bad rows are reported by their position."""
    report = ImportReport()
    good = read_client_dicts(rows, report)
    return _write_client_rows(owner, lambda: good, on_existing, report)


def _write_client_rows(owner, rows, on_existing, report: ImportReport) -> ImportReport:
    """`rows()` gives the good rows (bad ones go to `report` as they are read)."""
    ctype = ContentType.objects.get_for_model(Client)
    permissions = list(Permission.objects.filter(content_type=ctype, codename__in=[f"{p}_client" for p in OWNER_PERMS]))
    try:
        with transaction.atomic():
            batch: list[ClientRow] = []
            for row in rows():
                batch.append(row)
                if len(batch) >= IMPORT_BATCH_SIZE:
                    _import_batch(owner, batch, on_existing, report, permissions)
                    batch = []
            if batch:
                _import_batch(owner, batch, on_existing, report, permissions)
    except ImportFailedError as exc:
        report.fatal = str(exc)
        report.created = report.updated = report.skipped = 0
        return report
    except IntegrityError as exc:
        # Someone added the same client while the file was being read.
        report.fatal = _("Your clients changed during the import; nothing was imported. Please try again.")
        report.created = report.updated = report.skipped = 0
        logger.warning("client import rolled back: %s", exc)
        return report
    if report.imported:
        transaction.on_commit(lambda: mailings_changed.send(sender=Client, owner=owner))
    return report


def _grant_import_perms(owner, emails, permissions):
    """Owner permissions for the clients just inserted, in one INSERT ... SELECT per batch.

    Rows go straight into guardian's direct foreign-key table: building 3 model
    instances per client through bulk_create costs more than the import itself.
    """
    if not emails or not permissions:
        return
    qn = connection.ops.quote_name
    perm_meta, client_meta = ClientUserObjectPermission._meta, Client._meta
    columns = ", ".join(qn(perm_meta.get_field(f).column) for f in ("user", "permission", "content_object"))
    owner_col, email_col = (qn(client_meta.get_field(f).column) for f in ("owner", "email"))
    sql = (
        f"INSERT INTO {qn(perm_meta.db_table)} ({columns}) "  # noqa: S608 - names from _meta, values are parameters
        f"SELECT %s, p.{qn(Permission._meta.pk.column)}, c.{qn(client_meta.pk.column)} "
        f"FROM {qn(client_meta.db_table)} c CROSS JOIN {qn(Permission._meta.db_table)} p "
        f"WHERE c.{owner_col} = %s AND c.{email_col} IN ({', '.join(['%s'] * len(emails))}) "
        f"AND p.{qn(Permission._meta.pk.column)} IN ({', '.join(['%s'] * len(permissions))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [owner.pk, owner.pk, *emails, *(p.pk for p in permissions)])


def _import_batch(owner, batch, on_existing, report, permissions):
    existing = selectors.client_ids_by_email(owner=owner, emails=(row.email for row in batch))
    now = timezone.now()
    new = [
        Client(
            owner_id=owner.pk,
            email=row.email,
            full_name=row.full_name,
            comment=row.comment,
            unsubscribed_at=now if row.unsubscribed else None,
            unsubscribe_source=UnsubscribeSource.IMPORT if row.unsubscribed else "",
        )
        for row in batch
        if row.email not in existing
    ]
    Client.objects.bulk_create(new)
    _grant_import_perms(owner, [client.email for client in new], permissions)
    report.created += len(new)
    update_fields = [c for c in ("full_name", "comment") if c in report.columns]
    matched = [row for row in batch if row.email in existing]
    # An opt-out in the file is honoured whatever `on_existing` says; nothing here subscribes anyone.
    opted_out = [existing[row.email] for row in matched if row.unsubscribed]
    if opted_out:
        Client.objects.filter(pk__in=opted_out, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, unsubscribe_source=UnsubscribeSource.IMPORT, updated_at=now
        )
    if on_existing == OnExisting.UPDATE and update_fields and matched:
        Client.objects.bulk_update(
            [
                Client(pk=existing[row.email], full_name=row.full_name, comment=row.comment, updated_at=now)
                for row in matched
            ],
            [*update_fields, "updated_at"],
        )
        report.updated += len(matched)
    else:
        report.skipped += len(matched)


# --- Messages ---------------------------------------------------------------------


class MessageInUseError(ValidationError):
    pass


@transaction.atomic
def message_create(*, owner, subject: str, body: str, body_format: str = BodyFormat.MARKDOWN) -> Message:
    message = Message.objects.create(owner=owner, subject=subject.strip(), body=body, body_format=body_format)
    grant_owner_perms(message, owner)
    return message


@transaction.atomic
def message_update(*, message: Message, subject: str, body: str, body_format: str = BodyFormat.MARKDOWN) -> Message:
    message.subject = subject.strip()
    message.body = body
    message.body_format = body_format
    message.save()
    # A later run sends the new text; nothing to reschedule.
    return message


def message_send_test(*, message: Message, client: Client | None = None) -> bool:
    """Queue a test of the message to its owner's own (verified) address,
    rendered for `client`. False when the owner sent one a moment ago."""
    if client is not None:
        _owned_or_error(client, message.owner, _("A client"))
    key = f"{TEST_SEND_KEY_PREFIX}{message.owner_id}"
    if cache.add(key, 1, timeout=settings.MAILINGS_TEST_SEND_THROTTLE_SECONDS) is False:
        return False
    transaction.on_commit(
        lambda: async_task(
            "mailings.tasks.send_sample", message.pk, client.pk if client else None, group="mailings-test"
        )
    )
    return True


@transaction.atomic
def message_delete(*, message: Message) -> None:
    try:
        message.delete()
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        raise MessageInUseError(
            ngettext(
                "This message is used by %(count)s mailing; delete or change it first.",
                "This message is used by %(count)s mailings; delete or change them first.",
                count,
            ),
            code="in_use",
            params={"count": count},
        ) from exc


# --- Mailings ---------------------------------------------------------------------


def _owned_or_error(obj, owner, what):
    if obj.owner_id != owner.pk:
        raise ValidationError(_("%(what)s is not yours."), code="not_owner", params={"what": what})


def _set_recipients(mailing: Mailing, *, clients, all_clients: bool) -> None:
    """Replace the mailing's recipients; "all my clients" is resolved here, in the database."""
    through = Mailing.clients.through
    through.objects.filter(mailing_id=mailing.pk).delete()
    if all_clients:
        _add_all_owned_clients(mailing)
        return
    for client in clients:
        _owned_or_error(client, mailing.owner, _("A client"))
    through.objects.bulk_create(through(mailing_id=mailing.pk, client_id=client.pk) for client in clients)


def _add_all_owned_clients(mailing: Mailing) -> None:
    """INSERT ... SELECT from the owner's selector: 100,000 recipients in one statement, no rows in Python."""
    through = Mailing.clients.through._meta
    qn = connection.ops.quote_name
    owned = selectors.owned_clients(mailing.owner).annotate(recipient_id=F("pk")).values("recipient_id")
    owned_sql, owned_params = owned.query.sql_with_params()
    columns = ", ".join(qn(through.get_field(f).column) for f in ("mailing", "client"))
    sql = (
        f"INSERT INTO {qn(through.db_table)} ({columns}) "  # noqa: S608 - names from _meta, values are parameters
        f"SELECT %s, owned.{qn('recipient_id')} FROM ({owned_sql}) owned"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [mailing.pk, *owned_params])


def _replan_after_commit(mailing: Mailing) -> None:
    transaction.on_commit(lambda: engine.replan_mailing(mailing))


def owner_mailings_replan(*, owner) -> None:
    """The owner was blocked or unblocked: after the commit, their runs stop or
    their mailings are scheduled again."""
    transaction.on_commit(lambda: engine.replan_owner_mailings(owner))


def run_retry_failed(*, run: Run) -> int:
    """Send a finished run again to its failed recipients; how many (0: nothing to retry)."""
    return engine.retry_failed(run=run)


@transaction.atomic
def mailing_create(
    *,
    owner,
    message: Message,
    start_at,
    end_at,
    periodicity: str,
    clients=(),
    all_clients: bool = False,
    time_zone: str = "",
) -> Mailing:
    """time_zone: whose wall clock the schedule keeps; the owner's zone when empty."""
    _owned_or_error(message, owner, _("The message"))
    mailing = Mailing(
        owner=owner,
        message=message,
        start_at=start_at,
        end_at=end_at,
        periodicity=periodicity,
        time_zone=time_zone or owner.time_zone,
    )
    mailing.full_clean(exclude=["owner", "message"])
    mailing.save()
    grant_owner_perms(mailing, owner)
    _set_recipients(mailing, clients=clients, all_clients=all_clients)
    _replan_after_commit(mailing)
    return mailing


@transaction.atomic
def mailing_update(
    *,
    mailing: Mailing,
    message: Message,
    start_at,
    end_at,
    periodicity: str,
    clients=(),
    all_clients: bool = False,
    time_zone: str = "",
) -> Mailing:
    """Edit a mailing in any status: the scheduler recomputes status and next run.

    A completed mailing whose end time is moved into the future runs again; a
    run in progress keeps the recipients it started with. A disabled mailing
    stays disabled (only a manager turns it back on).
    """
    _owned_or_error(message, mailing.owner, _("The message"))
    mailing.message = message
    mailing.start_at = start_at
    mailing.end_at = end_at
    mailing.periodicity = periodicity
    mailing.time_zone = time_zone or mailing.time_zone
    mailing.full_clean(exclude=["owner", "message"])
    mailing.save()
    _set_recipients(mailing, clients=clients, all_clients=all_clients)
    _replan_after_commit(mailing)
    return mailing


# --- The owner's controls (mailings.transitions) ----------------------------------


@transaction.atomic
def mailing_start_now(*, mailing: Mailing) -> Mailing:
    """A created mailing whose start is in the future starts now (its end stays)."""
    transitions.check(mailing, OwnerAction.START_NOW)
    mailing.start_at = timezone.now().replace(microsecond=0)
    mailing.save(update_fields=["start_at", "updated_at"])
    _replan_after_commit(mailing)
    return mailing


def _set_control(mailing: Mailing, action: OwnerAction, **fields) -> None:
    """Check the transition under a row lock, then store the owner's choice."""
    locked = Mailing.objects.select_for_update().select_related("owner").get(pk=mailing.pk)
    transitions.check(locked, action)
    for name, value in fields.items():
        setattr(mailing, name, value)
    Mailing.objects.filter(pk=mailing.pk).update(**fields, updated_at=timezone.now())


def mailing_pause(*, mailing: Mailing) -> Mailing:
    """Stop claiming new recipients within seconds; those on the wire finish."""
    with transaction.atomic():
        _set_control(mailing, OwnerAction.PAUSE, paused_at=timezone.now())
    engine.pause_mailing(mailing.pk)
    return mailing


def mailing_resume(*, mailing: Mailing) -> Mailing:
    """Continue where it stopped: nobody is sent twice."""
    with transaction.atomic():
        _set_control(mailing, OwnerAction.RESUME, paused_at=None)
    engine.resume_mailing(mailing.pk)
    return mailing


def mailing_cancel(*, mailing: Mailing) -> Mailing:
    """Stop for good: the rest is recorded as not sent ("cancelled by the owner")."""
    with transaction.atomic():
        _set_control(mailing, OwnerAction.CANCEL, cancelled_at=timezone.now(), paused_at=None)
    engine.cancel_mailing(mailing.pk)
    return mailing


def mailing_control(*, mailing: Mailing, action: str) -> Mailing:
    """One entry point for the owner's buttons: start now, pause, resume, cancel."""
    perform = {
        OwnerAction.START_NOW: mailing_start_now,
        OwnerAction.PAUSE: mailing_pause,
        OwnerAction.RESUME: mailing_resume,
        OwnerAction.CANCEL: mailing_cancel,
    }[OwnerAction(action)]
    return perform(mailing=mailing)


@transaction.atomic
def mailing_delete(*, mailing: Mailing) -> None:
    # Runs, deliveries and attempts go with it; a worker holding a delivery of
    # this mailing finds it gone and drops it.
    mailing.delete()
