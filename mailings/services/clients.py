"""Writes to clients: one at a time, and many at once (the CSV import and the API's
bulk upsert share one batch writer)."""

import logging

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.normalize import normalize_email
from mailings import selectors
from mailings.imports import (
    ClientRow,
    ImportFailedError,
    ImportReport,
    OnExisting,
    read_client_dicts,
    read_clients_csv,
)
from mailings.models import (
    Client,
    ClientUserObjectPermission,
    UnsubscribeSource,
)
from mailings.services.permissions import OWNER_PERMS, grant_owner_perms
from mailings.signals import mailings_changed

logger = logging.getLogger(__name__)


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
