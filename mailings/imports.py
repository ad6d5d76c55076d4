"""Reading and writing clients as CSV.

The import reads the upload as a stream (one line at a time through
`io.TextIOWrapper`), so a file of any size never sits in memory whole; rows are
validated one by one and handed to `services.clients_import` in batches.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.normalize import normalize_email

# The import keeps this many row errors to show; the total is always counted.
MAX_ERRORS_KEPT = 1000
EMAIL_MAX_LENGTH = 254
FULL_NAME_MAX_LENGTH = 255

# Header cell (lower-cased, "_" and "-" read as spaces) -> column.
HEADER_ALIASES = {
    "email": "email",
    "e mail": "email",
    "email address": "email",
    "full name": "full_name",
    "fullname": "full_name",
    "name": "full_name",
    "comment": "comment",
    "comments": "comment",
    "unsubscribed": "unsubscribed",
}
COLUMNS = ("email", "full_name", "comment", "unsubscribed")
# An "unsubscribed" cell: yes marks the client unsubscribed; no or empty changes nothing
# (an import never subscribes anyone again).
YES = {"yes", "y", "true", "1", "x", "да", "д"}
NO = {"", "no", "n", "false", "0", "нет", "н"}
COLUMN_LABELS = {
    "email": gettext_lazy("email"),
    "full_name": gettext_lazy("full name"),
    "comment": gettext_lazy("comment"),
    "unsubscribed": gettext_lazy("unsubscribed"),
}


# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """Export: a quote before a cell a spreadsheet would run as a formula.

    Cells that are already quote-prefixed formulas get one more quote, so that
    `restore_cell` gives back exactly what was written."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """Import: undo `neutralise_cell`, and nothing else."""
    if value.startswith("'") and value[1:].lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class OnExisting(models.TextChoices):
    SKIP = "skip", gettext_lazy("Skip clients I already have")
    UPDATE = "update", gettext_lazy("Update their name and comment from the file")


class ImportFailedError(Exception):
    """The file cannot be read at all: nothing is imported."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    value: str = ""
    code: str = "invalid"
    field: str = ""


@dataclass(frozen=True)
class ClientRow:
    line: int
    email: str
    full_name: str
    comment: str
    unsubscribed: bool = False


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    fatal: str = ""

    def add_error(self, line: int, reason: str, value: str = "", *, code: str = "invalid", field: str = "") -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(line, reason, value[:200], code, field))

    def add_row_error(self, error: RowError) -> None:
        self.add_error(error.line, error.reason, error.value, code=error.code, field=error.field)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    @property
    def ok(self) -> bool:
        return not self.fatal


def _header_key(cell: str) -> str:
    return " ".join(cell.strip().lower().replace("_", " ").replace("-", " ").split())


def _delimiter(header_line: str) -> str:
    """Comma or semicolon, whichever the header row uses more."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _parse_header(header_line: str, delimiter: str, report: ImportReport) -> tuple[dict[str, int], int]:
    cells = next(csv.reader([header_line], delimiter=delimiter), [])
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        column = HEADER_ALIASES.get(_header_key(cell))
        if column and column not in positions:
            positions[column] = index
        elif cell.strip():
            report.ignored_columns.append(cell.strip())
    if "email" not in positions:
        raise ImportFailedError(
            _("The first row must be a header row with an “email” column (and optionally “full name” and “comment”).")
        )
    report.columns = [c for c in COLUMNS if c in positions]
    return positions, len(cells)


def read_clients_csv(binary_file, report: ImportReport) -> Iterator[ClientRow]:
    """Yield the good rows of a clients CSV; bad rows go to `report`.

    Raises ImportFailedError for a file that cannot be read (wrong encoding, no
    header); the caller's transaction then rolls back whatever was written.
    """
    text = io.TextIOWrapper(binary_file, encoding="utf-8-sig", newline="")
    line = 1
    try:
        header_line = text.readline()
        if not header_line.strip():
            raise ImportFailedError(_("The file is empty."))
        delimiter = _delimiter(header_line)
        positions, width = _parse_header(header_line, delimiter, report)
        seen: dict[str, int] = {}
        reader = csv.reader(text, delimiter=delimiter)
        consumed = 0
        for row in reader:
            line = 1 + consumed + 1  # where this record starts (it may span lines)
            consumed = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            row = [restore_cell(cell) for cell in row]  # noqa: PLW2901
            result = _validate(row, line, positions, width, seen)
            if isinstance(result, RowError):
                report.add_row_error(result)
            else:
                seen[result.email] = line
                yield result
    except UnicodeDecodeError as exc:
        raise ImportFailedError(
            _("The file is not UTF-8 text (near line %(line)s). Save it as “CSV UTF-8” and upload it again.")
            % {"line": line}
        ) from exc
    except csv.Error as exc:
        raise ImportFailedError(
            _("The file is not a readable CSV file (line %(line)s): %(error)s") % {"line": line, "error": exc}
        ) from exc
    finally:
        # The upload belongs to the request: leave it open for Django to close.
        text.detach()


def read_client_dicts(rows: list, report: ImportReport) -> list[ClientRow]:
    """The good rows of the API's bulk upsert (a list of {"email", "full_name", "comment"}
    objects); bad rows go to `report`, numbered by their position from 0.

    `report.columns` gets the fields any row carries: with "update", those are
    the fields written to clients you already have, as a CSV's columns are."""
    present: set[str] = set()
    good: list[ClientRow] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            report.add_error(index, _("expected an object with an email"), code="not_an_object")
            continue
        values = {}
        for column in COLUMNS:
            value = row.get(column, "")
            if not isinstance(value, str):
                report.add_error(index, _("must be a string"), code="wrong_type", field=column)
                break
            values[column] = value
        else:
            present.update(column for column in COLUMNS if column in row)
            result = validate_client_row(
                index,
                values["email"],
                values["full_name"],
                values["comment"],
                seen,
                unsubscribed=values["unsubscribed"],
            )
            if isinstance(result, RowError):
                if result.code == "duplicate":
                    result = RowError(
                        index,
                        _("duplicate of row %(index)s in this request") % {"index": seen[result.value]},
                        result.value,
                        "duplicate",
                        "email",
                    )
                report.add_row_error(result)
            else:
                seen[result.email] = index
                good.append(result)
    report.columns = [c for c in COLUMNS if c in present]
    return good


def _validate(row: list[str], line: int, positions: dict[str, int], width: int, seen: dict[str, int]):
    missing = [str(COLUMN_LABELS[c]) for c, i in positions.items() if i >= len(row)]
    if missing:
        return RowError(
            line, _("missing column: %(columns)s") % {"columns": ", ".join(missing)}, ";".join(row), "missing_column"
        )
    if len(row) > width:
        return RowError(
            line,
            _("%(found)s fields but the header has %(width)s; quote values that contain the separator")
            % {"found": len(row), "width": width},
            ";".join(row),
            "too_many_fields",
        )
    if any("\x00" in cell for cell in row):
        return RowError(line, _("the row contains a NUL character"), ";".join(row).replace("\x00", "\\0"))
    return validate_client_row(
        line,
        row[positions["email"]],
        row[positions["full_name"]] if "full_name" in positions else "",
        row[positions["comment"]] if "comment" in positions else "",
        seen,
        unsubscribed=row[positions["unsubscribed"]] if "unsubscribed" in positions else "",
    )


def validate_client_row(
    line: int, email: str, full_name: str, comment: str, seen: dict[str, int], *, unsubscribed: str = ""
):
    """One client of an import (CSV or the API's bulk upsert): a ClientRow, or the RowError that rejects it.

    `seen` maps the emails accepted so far to their line, to refuse duplicates within one upload."""
    email = normalize_email(email)
    full_name, comment = full_name.strip(), comment.strip()
    if not email:
        return RowError(line, _("the email is empty"), code="required", field="email")
    for name, value in (("email", email), ("full_name", full_name), ("comment", comment)):
        if "\x00" in value:
            return RowError(line, _("contains a NUL character"), code="null_characters_not_allowed", field=name)
    if not _valid_email(email):
        return RowError(line, _("not a valid email address"), email, code="invalid_email", field="email")
    if len(full_name) > FULL_NAME_MAX_LENGTH:
        return RowError(
            line,
            _("the full name is longer than %(n)s characters") % {"n": FULL_NAME_MAX_LENGTH},
            email,
            code="max_length",
            field="full_name",
        )
    if email in seen:
        return RowError(
            line, _("duplicate of line %(line)s in this file") % {"line": seen[email]}, email, code="duplicate"
        )
    unsubscribed = unsubscribed.strip().lower()
    if unsubscribed not in YES | NO:
        return RowError(line, _("“unsubscribed” must be yes, no or empty"), email, code="invalid", field="unsubscribed")
    return ClientRow(line, email, full_name, comment, unsubscribed in YES)


def _valid_email(email: str) -> bool:
    if len(email) > EMAIL_MAX_LENGTH:
        return False
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


class _Echo:
    """csv.writer writes to this and gets the line back, for StreamingHttpResponse."""

    def write(self, value):
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """CSV text line by line: a UTF-8 BOM first, so spreadsheets read the accents right;
    no cell is a formula (`neutralise_cell`)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([neutralise_cell(cell) for cell in row])
