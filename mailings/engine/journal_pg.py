"""The attempt journal on PostgreSQL: each INSERT is sent ahead, its commit read later.

On a connection of its own, one prepared INSERT of a round's attempts (one
per SMTP connection, engine.chunks) goes out right after their final
replies, and its result (the commit, durable with synchronous_commit on) is
read only when the next messages are about to be accepted: `wait()`, before
their final "." lines. So the commit overlaps the next round's rendering and
its MAIL, RCPT, DATA and bodies, and on each connection at most one accepted
message is ever without its record, as with the threaded journal. The
connections of a round share one commit, and one WAL flush: with full
durability the flush, not the worker, had limited a single connection.

One thread and libpq's asynchronous calls (psycopg's `pq` layer): no helper
thread to hand each write to, and PostgreSQL parses and plans the INSERT once
a journal. Against the threaded journal it replaced: about 1.5× the messages a
second for one worker with full durability (README, "Throughput").
"""

import logging
import select

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections
from psycopg import pq

logger = logging.getLogger(__name__)

STATEMENT = b"mailsite_attempt_insert"
INTEGRITY_VIOLATION = "23"  # SQLSTATE class: a unique or foreign key constraint


def as_text(value) -> bytes | None:
    """A parameter in PostgreSQL's text format; the column gives its type."""
    if value is None:
        return None
    if value is True or value is False:
        return b"t" if value else b"f"
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode()  # text columns refuse NUL
    if hasattr(value, "isoformat"):
        return value.isoformat().encode()  # aware datetimes carry their offset
    return str(value).encode()


class PostgresJournal:
    """Writes the attempts, one committed INSERT a round, read back before the next messages are accepted."""

    def __init__(self, run_id: int, sql: str):
        self.run_id = run_id
        self.head, _values, row = sql.partition(" VALUES ")
        self.width = row.count("%s")
        self.prepared: set[int] = set()  # row counts with a prepared statement
        self.db = None
        self.pgconn = None
        self.rows: list[tuple[tuple, str]] = []  # added, not yet sent
        self.pending: list[tuple[tuple, str]] | None = None  # the rows whose INSERT is in flight

    def _statement(self, n: int) -> bytes:
        """The prepared INSERT of n rows."""
        name = STATEMENT + b"_%d" % n
        if n not in self.prepared:
            width = self.width
            values = ", ".join(
                "(" + ", ".join(f"${r * width + c}" for c in range(1, width + 1)) + ")" for r in range(n)
            )
            with self.db.wrap_database_errors:
                prepared = self.pgconn.prepare(name, f"{self.head} VALUES {values}".encode())
            self._check(prepared, None)
            self.prepared.add(n)
        return name

    def __enter__(self):
        # A new wrapper for the default database: its own connection, closed with the journal.
        self.db = connections.create_connection("default")
        try:
            self.db.ensure_connection()
            with self.db.wrap_database_errors, self.db.connection.cursor() as cursor:
                if settings.MAILINGS_ASYNC_COMMIT:
                    cursor.execute("SET synchronous_commit TO OFF")
            self.pgconn = self.db.connection.pgconn
            self._statement(1)
        except BaseException:
            self.db.close()
            raise
        return self

    def add(self, params, email) -> None:
        self.rows.append((params, email))

    def send(self) -> None:
        """One INSERT of the rows added, committed on its own (autocommit); its result is read by wait()."""
        if not self.rows:
            return
        self.wait()
        rows, self.rows = self.rows, []
        self._send_rows(rows)
        self.pending = rows

    def _send_rows(self, rows) -> None:
        statement = self._statement(len(rows))
        with self.db.wrap_database_errors:
            self.pgconn.send_query_prepared(statement, [as_text(value) for params, _email in rows for value in params])

    def wait(self) -> None:
        """Read the pending INSERT's result: its rows are committed when this returns."""
        if self.pending is None:
            return
        rows, self.pending = self.pending, None
        result = self._result()
        if len(rows) > 1 and self._integrity_error(result):
            # One row broke a constraint and took the others with it: write them one by one.
            for params, email in rows:
                self._send_rows([(params, email)])
                self._check(self._result(), email)
            return
        self._check(result, rows[0][1])

    @staticmethod
    def _integrity_error(result) -> bool:
        sqlstate = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode() if result else ""
        return sqlstate.startswith(INTEGRITY_VIOLATION)

    def _result(self):
        pgconn = self.pgconn
        with self.db.wrap_database_errors:
            pgconn.consume_input()
            while pgconn.is_busy():
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            result = pgconn.get_result()
            while pgconn.get_result() is not None:
                pass
        return result

    def _check(self, result, email) -> None:
        if result is not None and result.status == pq.ExecStatus.COMMAND_OK:
            return
        source = self.pgconn if result is None else result
        message = (source.error_message or b"no result").decode(errors="replace").strip()
        if self._integrity_error(result):
            if email is not None:
                # A success already on record: this was the one repeated message.
                logger.warning("Run %s: %s already had a successful attempt", self.run_id, email)
                return
            raise IntegrityError(message)
        raise DatabaseError(message)

    def __exit__(self, *exc):
        try:
            self.send()
            self.wait()  # the last messages' records, whatever ended the chunk
        finally:
            self.db.close()
