"""The PostgreSQL journal (engine/journal_pg.py): each INSERT is sent ahead
on its own connection and its commit read before the next message is accepted.

On real PostgreSQL only (the .ci/run stage with DATABASE_URL); like every
transactional test here, they leave the migrated data behind.
"""

import logging

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from mailings import engine
from mailings.engine.journal import ATTEMPT_INSERT, open_journal
from mailings.engine.journal_pg import PostgresJournal
from mailings.models import Attempt, AttemptStatus, Run, RunStatus
from mailings.tests.engine.helpers import make_mailing

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://...")


def started(user, n):
    mailing, clients = make_mailing(user, n=n)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), status=RunStatus.PENDING)
    engine.snapshot_recipients(run)
    return mailing, clients, run


def params(mailing, run, client, *, email=None, status=AttemptStatus.SUCCESS, reply="250 2.0.0 queued"):
    return (mailing.pk, run.pk, client.pk, email or client.email, timezone.now(), status, False, 250, reply, "test:1")


def test_a_worker_on_postgresql_uses_the_journal_that_sends_ahead(user):
    _mailing, _clients, run = started(user, 1)
    journal = open_journal(run.pk)
    assert isinstance(journal, PostgresJournal)


def test_a_run_is_recorded_whole_through_it(smtp_server, user, settings):
    settings.MAILINGS_CHUNK_SIZE = 7
    _mailing, clients, run = started(user, 30)

    engine.send_run_inline(run.pk)

    attempts = Attempt.objects.filter(run=run)
    assert sorted(attempts.values_list("email", flat=True)) == sorted(c.email for c in clients)
    assert set(attempts.values_list("status", "smtp_code")) == {(AttemptStatus.SUCCESS, 250)}
    run.refresh_from_db()
    assert (run.status, run.sent_count) == (RunStatus.FINISHED, 30)
    assert len(smtp_server.messages) == 30


def test_a_write_is_committed_for_every_connection_once_wait_returns(user):
    mailing, clients, run = started(user, 2)
    with open_journal(run.pk) as journal:
        journal.add(params(mailing, run, clients[0]), clients[0].email)
        journal.send()
        journal.wait()
        # Django's own connection (autocommit) sees it: the commit is done.
        assert Attempt.objects.filter(run=run, client=clients[0]).exists()
        journal.add(params(mailing, run, clients[1]), clients[1].email)
        journal.send()
    assert Attempt.objects.filter(run=run).count() == 2  # the last one is waited for on leaving


def test_a_second_success_is_the_one_repeated_message_logged_not_raised(user, caplog):
    mailing, clients, run = started(user, 1)
    Attempt.objects.create(mailing=mailing, run=run, client=clients[0], email=clients[0].email, status="success")
    with caplog.at_level(logging.WARNING), open_journal(run.pk) as journal:
        journal.add(params(mailing, run, clients[0]), clients[0].email)
        journal.send()
        journal.wait()
    assert "already had a successful attempt" in caplog.text
    assert Attempt.objects.filter(run=run).count() == 1


def test_any_other_database_error_is_raised_as_djangos(user):
    mailing, clients, run = started(user, 1)
    with open_journal(run.pk) as journal:
        journal.add(params(mailing, run, clients[0], email="x" * 300 + "@example.org"), "x")
        journal.send()
        with pytest.raises(DatabaseError, match="too long"):
            journal.wait()


def test_a_reply_with_a_nul_byte_is_stored_readably(user):
    mailing, clients, run = started(user, 1)
    with open_journal(run.pk) as journal:
        journal.add(params(mailing, run, clients[0], reply="250 ok\x00 queued"), clients[0].email)
        journal.send()
    assert Attempt.objects.get(run=run).server_reply == "250 ok\ufffd queued"


@pytest.mark.parametrize(("async_commit", "expected"), [(False, "on"), (True, "off")])
def test_its_durability_follows_the_setting(user, settings, async_commit, expected):
    settings.MAILINGS_ASYNC_COMMIT = async_commit
    _mailing, _clients, run = started(user, 1)
    with PostgresJournal(run.pk, ATTEMPT_INSERT.sql()) as journal, journal.db.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == expected


def test_a_round_is_one_insert_committed_once_wait_returns(user):
    mailing, clients, run = started(user, 3)
    with open_journal(run.pk) as journal:
        for client in clients:
            journal.add(params(mailing, run, client), client.email)
        journal.send()
        journal.wait()
        assert Attempt.objects.filter(run=run).count() == 3
        with journal.db.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
            assert [name for (name,) in cursor.fetchall()] == ["mailsite_attempt_insert_1", "mailsite_attempt_insert_3"]


def test_a_repeated_success_in_a_round_loses_none_of_the_others(user, caplog):
    """One row breaks the unique constraint and fails the round's INSERT: the
    rows are then written one by one, and only the repeated one is left out."""
    mailing, clients, run = started(user, 3)
    Attempt.objects.create(mailing=mailing, run=run, client=clients[1], email=clients[1].email, status="success")
    with caplog.at_level(logging.WARNING), open_journal(run.pk) as journal:
        for client in clients:
            journal.add(params(mailing, run, client), client.email)
        journal.send()
        journal.add(params(mailing, run, clients[0], status=AttemptStatus.FAILED), clients[0].email)
        journal.send()  # waits for the round first: its rows are all settled before the next INSERT
    assert f"{clients[1].email} already had a successful attempt" in caplog.text
    assert sorted(Attempt.objects.filter(run=run).values_list("email", "status")) == [
        (clients[0].email, AttemptStatus.FAILED),
        (clients[0].email, AttemptStatus.SUCCESS),
        (clients[1].email, AttemptStatus.SUCCESS),
        (clients[2].email, AttemptStatus.SUCCESS),
    ]
