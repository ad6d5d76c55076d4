"""The attempt journal: every attempt committed before the next message on its connection can be accepted.

A chunk adds the outcomes it has (`add`), sends them as one write (`send`:
the replies of a round, one per SMTP connection, engine.chunks) and waits for
the commit (`wait`) before any further message's final "." line goes out. A
unique constraint allows one success per (run, client). A worker killed
mid-chunk leaves claims that go stale; they are settled from the journal (a
success on record means sent), so only the message that was on the wire on
each of its connections when the worker died can be sent twice.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, connection

from mailings.models import Attempt

logger = logging.getLogger(__name__)


@contextmanager
def journal_session():
    """With MAILINGS_ASYNC_COMMIT on PostgreSQL, commits of the sending journal
    do not wait for the WAL flush (synchronous_commit=off): a killed worker
    loses nothing it was told is committed; only a crash of the database
    server itself can lose the last fraction of a second. Off by default:
    full durability (README, "How a run sends")."""
    use = settings.MAILINGS_ASYNC_COMMIT and connection.vendor == "postgresql"
    if use:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if use:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


class _AttemptInsert:
    FIELDS = ("mailing", "run", "client", "email", "attempted_at", "status", "is_temporary", "smtp_code")
    FIELDS += ("server_reply", "sent_by")

    def __init__(self):
        self._sql = {}

    def sql(self) -> str:
        vendor = connection.vendor
        if vendor not in self._sql:
            qn, meta = connection.ops.quote_name, Attempt._meta
            columns = ", ".join(qn(meta.get_field(name).column) for name in self.FIELDS)
            marks = ", ".join(["%s"] * len(self.FIELDS))
            self._sql[vendor] = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        return self._sql[vendor]

    def execute(self, params, email, run_id):
        # A prepared INSERT, not Model.save(): the ORM's per-row overhead was
        # the largest cost after the SMTP round trips themselves.
        params = (*params[:4], connection.ops.adapt_datetimefield_value(params[4]), *params[5:])
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.sql(), params)
        except IntegrityError:
            # A success already on record: this was the one repeated message.
            logger.warning("Run %s: %s already had a successful attempt", run_id, email)


ATTEMPT_INSERT = _AttemptInsert()


class InlineJournal:
    """Writes each attempt on the caller's connection and waits for it:
    inside a transaction (tests, a caller's atomic block), where another
    connection could not see the run."""

    def __init__(self, run_id: int):
        self.run_id = run_id

    def __enter__(self):
        return self

    def add(self, params, email) -> None:
        ATTEMPT_INSERT.execute(params, email, self.run_id)

    def send(self) -> None:
        pass

    def wait(self) -> None:
        pass

    def __exit__(self, *exc):
        return None


class ThreadedJournal(InlineJournal):
    """In a worker (autocommit) the INSERT runs on a helper thread with its
    own database connection, so writing message k's attempt overlaps the
    MAIL, RCPT (and, pipelined, DATA and body) of message k+1; `wait()` is
    called before k+1 can be accepted (before its DATA, or pipelined before
    its final "." line), so at most one accepted message is ever without its
    record. SQLite's journal; PostgreSQL's is engine.journal_pg."""

    def __init__(self, run_id: int):
        super().__init__(run_id)
        self.pool = None
        self.pending = None
        self.rows = []

    def __enter__(self):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self.pool.submit(self._enter_session).result()
        return self

    def _enter_session(self):
        self._session = journal_session()
        self._session.__enter__()

    def _leave_session(self):
        try:
            self._session.__exit__(None, None, None)
        finally:
            connection.close()

    def add(self, params, email) -> None:
        self.rows.append((params, email))

    def send(self) -> None:
        if not self.rows:
            return
        self.wait()
        rows, self.rows = self.rows, []
        self.pending = self.pool.submit(self._insert, rows)

    def _insert(self, rows) -> None:
        for params, email in rows:
            ATTEMPT_INSERT.execute(params, email, self.run_id)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def __exit__(self, *exc):
        try:
            self.send()
            self.wait()
        finally:
            self.pool.submit(self._leave_session).result()
            self.pool.shutdown()


def open_journal(run_id: int):
    """The journal for a chunk, to use as a context manager: inline inside a
    transaction; in a worker, on a connection of its own (PostgreSQL: sent
    ahead on the same thread; other databases: on a helper thread)."""
    if connection.in_atomic_block:
        return InlineJournal(run_id)
    if connection.vendor == "postgresql":
        from mailings.engine.journal_pg import PostgresJournal  # psycopg is only needed on PostgreSQL

        return PostgresJournal(run_id, ATTEMPT_INSERT.sql())
    return ThreadedJournal(run_id)
