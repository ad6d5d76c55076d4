"""A turn sends over several SMTP connections in rounds (engine/chunks.py):
every message is sent once, and when the server reads a message's final "."
line, every message accepted before on that connection is on record, so a
crash repeats at most one message per connection."""

import asyncio
import time

import pytest
from django.db import connection
from django.utils import timezone

from mailings import engine
from mailings.engine.journal import ATTEMPT_INSERT
from mailings.models import Attempt, AttemptStatus, Run, RunStatus
from mailings.tests.engine.helpers import make_mailing

pytestmark = pytest.mark.django_db


def started(user, n):
    mailing, _clients = make_mailing(user, n=n)
    run = Run.objects.create(mailing=mailing, scheduled_for=timezone.now(), status=RunStatus.PENDING)
    engine.snapshot_recipients(run)
    return run


def committed_successes(run_id):
    """Read on a connection of its own, as another process would after a crash."""
    try:
        return set(Attempt.objects.filter(run_id=run_id, status=AttemptStatus.SUCCESS).values_list("email", flat=True))
    finally:
        connection.close()


@pytest.fixture
def slow_journal(monkeypatch):
    """Every journal write commits 20 ms later, as on a busy database server:
    a message ended before its connection's previous attempt is committed
    would reach the server first. PostgreSQL: a trigger; SQLite: its
    journal's helper thread."""
    if connection.vendor != "postgresql":

        def slow(*args, **kwargs):
            time.sleep(0.02)
            return execute(*args, **kwargs)

        execute = ATTEMPT_INSERT.execute
        monkeypatch.setattr(ATTEMPT_INSERT, "execute", slow)
        yield
        return
    table = Attempt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_slow_insert AFTER INSERT ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION test_slow_insert()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_slow_insert ON {table}")
        cursor.execute("DROP FUNCTION test_slow_insert()")


@pytest.mark.parametrize("connections", [2, 3])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_connection_has_its_previous_message_on_record_before_the_next_is_accepted(
    smtp_server, user, settings, slow_journal, connections
):
    settings.MAILINGS_SMTP_CONNECTIONS = connections
    settings.MAILINGS_CHUNK_SIZE = 10
    settings.MAILINGS_TURN_SECONDS = 600  # one turn, however slow the machine: its connections are counted
    run = started(user, 25)
    handler = smtp_server.handler
    seen = []  # (connection, recipient, successes on record when its "." arrived)
    accept = handler.handle_DATA

    async def handle_data(server, session, envelope):
        on_record = await asyncio.to_thread(committed_successes, run.pk)
        seen.append((id(session), envelope.rcpt_tos[0], on_record))
        return await accept(server, session, envelope)

    handler.handle_DATA = handle_data
    before = handler.connections

    engine.send_run_inline(run.pk)

    assert handler.connections - before == connections
    assert sorted(handler.recipients) == sorted(f"c{i}@example.org" for i in range(25))
    assert Attempt.objects.filter(run=run, status=AttemptStatus.SUCCESS).count() == 25
    accepted_on = {}
    for n, (session, email, on_record) in enumerate(seen):
        earlier = {e for _s, e, _r in seen[:n]}
        assert accepted_on.get(session, set()) <= on_record, f"{email}: an earlier message on its connection"
        # Unrecorded: at most the messages of this round on the other connections.
        assert len(earlier - on_record) <= connections - 1, email
        accepted_on.setdefault(session, set()).add(email)


def test_without_pipelining_a_turn_keeps_one_connection(smtp_server, user, settings):
    settings.MAILINGS_SMTP_CONNECTIONS = 3
    settings.MAILINGS_TURN_SECONDS = 600  # one turn, however slow the machine: its connections are counted
    smtp_server.handler.pipelining = False
    run = started(user, 7)
    before = smtp_server.handler.connections

    engine.send_run_inline(run.pk)

    assert smtp_server.handler.connections - before == 1
    assert smtp_server.handler.recipients == [f"c{i}@example.org" for i in range(7)]
    assert Run.objects.get(pk=run.pk).sent_count == 7


def test_a_refused_recipient_frees_its_connection_within_the_round(smtp_server, user, settings):
    """A refusal ends that message at RCPT: no "." line, its attempt is
    recorded with the round, and the others go out as usual."""
    settings.MAILINGS_SMTP_CONNECTIONS = 2
    smtp_server.fault("rcpt_550", match=["c1@example.org", "c4@example.org"])
    run = started(user, 6)

    engine.send_run_inline(run.pk)

    assert sorted(smtp_server.handler.recipients) == [f"c{i}@example.org" for i in (0, 2, 3, 5)]
    failed = Attempt.objects.filter(run=run, status=AttemptStatus.FAILED)
    assert sorted(failed.values_list("email", "smtp_code")) == [("c1@example.org", 550), ("c4@example.org", 550)]
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.failed_count) == (RunStatus.FINISHED, 4, 2)


def test_a_server_that_takes_fewer_connections_gets_the_run_over_those(smtp_server, user, settings):
    """A relay that limits connections per client answers the third with a
    421: that connection is dropped for the turn, nobody's message fails."""
    settings.MAILINGS_SMTP_CONNECTIONS = 4
    settings.MAILINGS_TURN_SECONDS = 600  # one turn, however slow the machine
    smtp_server.handler.max_connections = 2
    run = started(user, 12)
    before = smtp_server.handler.connections

    engine.send_run_inline(run.pk)

    assert sorted(smtp_server.handler.recipients) == sorted(f"c{i}@example.org" for i in range(12))
    assert not Attempt.objects.filter(run=run).exclude(status=AttemptStatus.SUCCESS).exists()
    run.refresh_from_db()
    assert (run.status, run.sent_count, run.deferred_since) == (RunStatus.FINISHED, 12, None)
    assert smtp_server.handler.connections - before == 3  # two taken, the third refused once
