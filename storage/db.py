"""SQLite connection: WAL, migrations by PRAGMA user_version, serialised transactions."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# The update being handled: its id is committed in the same transaction as its effect,
# so a re-delivered update is recognised and skipped (see bot/app.py).
current_update_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_update_id", default=None
)
# The database whose update transaction the current task holds (see update_transaction).
_held: contextvars.ContextVar[Database | None] = contextvars.ContextVar("_held", default=None)
_savepoints = itertools.count(1)

MIGRATIONS: list[str] = [
    # 1: the core loop
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        link TEXT,
        link_key TEXT,
        channel TEXT,
        status TEXT NOT NULL,
        urgent INTEGER NOT NULL DEFAULT 0,
        reporter_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        report_message_id INTEGER NOT NULL,
        assignee_id INTEGER,
        report_count INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        clock_start_at TEXT NOT NULL,
        acknowledged_at TEXT,
        closed_at TEXT,
        outcome TEXT,
        reopened_from INTEGER REFERENCES tickets(id),
        paused_at TEXT,
        paused_seconds REAL NOT NULL DEFAULT 0,
        esc_step INTEGER NOT NULL DEFAULT 0,
        last_escalated_at TEXT,
        next_due_at TEXT,
        card_message_id INTEGER,
        clarify_message_id INTEGER
    );
    -- one open ticket per piece of content: duplicates are caught by the key itself
    CREATE UNIQUE INDEX ux_tickets_open_link ON tickets(link_key)
        WHERE link_key IS NOT NULL AND closed_at IS NULL;
    CREATE INDEX ix_tickets_due ON tickets(next_due_at) WHERE next_due_at IS NOT NULL;
    CREATE INDEX ix_tickets_open ON tickets(closed_at, channel);
    CREATE INDEX ix_tickets_card ON tickets(chat_id, card_message_id);
    CREATE INDEX ix_tickets_created ON tickets(created_at);
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        reporter_id INTEGER NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX ix_reports_ticket ON reports(ticket_id);
    CREATE INDEX ix_reports_message ON reports(chat_id, message_id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        at TEXT NOT NULL,
        actor_id INTEGER,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX ix_events_ticket ON events(ticket_id, id);
    CREATE INDEX ix_events_at ON events(at);
    CREATE TABLE evidence (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        text TEXT,
        media TEXT NOT NULL DEFAULT '[]',
        origin TEXT,
        origin_chat_id INTEGER,
        origin_message_id INTEGER,
        origin_date TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX ix_evidence_ticket ON evidence(ticket_id);
    CREATE TABLE overrides (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL,
        start TEXT NOT NULL,
        "end" TEXT NOT NULL,
        set_by INTEGER,
        at TEXT NOT NULL
    );
    CREATE TABLE people (
        telegram_id INTEGER PRIMARY KEY,
        dm_open INTEGER NOT NULL DEFAULT 0,
        dm_refused_at TEXT
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        not_before TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending',
        sent_at TEXT,
        message_id INTEGER,
        error TEXT
    );
    CREATE INDEX ix_outbox_pending ON outbox(state, id) WHERE state = 'pending';
    CREATE TABLE bot_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        ticket_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (chat_id, message_id, ticket_id)
    );
    """,
    # 2: every change to a ticket looks up the cards that show it (to refresh them); without
    # this index that was a scan of every card ever sent, per ticket
    """
    CREATE INDEX ix_bot_messages_ticket ON bot_messages(ticket_id);
    """,
    # 3: whether a person is in the liaison chat (NULL: not known); an on-call moderator who
    # left it and has no direct messages open cannot be reached
    """
    ALTER TABLE people ADD COLUMN in_chat INTEGER;
    """,
    # 4: a new link looks up the last closed ticket of the same content (reopened_from); the
    # only link_key index covers open tickets, so that was a scan of every ticket ever
    """
    CREATE INDEX ix_tickets_link_key ON tickets(link_key, id) WHERE link_key IS NOT NULL;
    """,
]


BUSY_WAIT = 5.0  # seconds a statement waits for another process's write lock, then fails


class Connection:
    """SQLite on the event loop's own thread, behind async methods.

    A statement here takes 20-60 µs; handing it to a worker thread and back (aiosqlite)
    cost 150-250 µs on the benchmark machine, four times the work, and a report is about
    fifteen statements. So statements run inline, and only reads that grow with the
    history (``offload=True``: reports, exports) leave the loop for a worker thread. The
    Database's lock keeps every other use of the connection out meanwhile.

    SQLite's own busy wait would block the loop, so it is off (``busy_timeout=0``) and a
    statement refused with SQLITE_BUSY (another process writing) is retried here with
    asyncio sleeps for up to ``BUSY_WAIT`` seconds.
    """

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (SQLite may have rolled it back after an error)."""
        return self.raw.in_transaction

    async def _retry_busy(self, call: Callable[[], T]) -> T:
        waited, pause = 0.0, 0.005
        began = time.monotonic()
        while True:
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or waited >= BUSY_WAIT:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
            waited = time.monotonic() - began

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement; the cursor tells ``lastrowid`` and ``rowcount``."""
        return await self._retry_busy(lambda: self.raw.execute(sql, args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        """Run one statement for each row."""
        batch = list(rows)
        return await self._retry_busy(lambda: self.raw.executemany(sql, batch))

    async def executescript(self, script: str) -> None:
        """Run several statements (migrations)."""
        await self._retry_busy(lambda: self.raw.executescript(script))

    async def execute_fetchall(
        self, sql: str, args: Sequence[Any] = (), *, offload: bool = False
    ) -> list[sqlite3.Row]:
        """All rows of a query; ``offload`` runs it on a worker thread (long reads)."""
        if offload:
            return await self._offload(lambda: self.raw.execute(sql, args).fetchall())
        return await self._retry_busy(lambda: self.raw.execute(sql, args).fetchall())

    async def _offload(self, call: Callable[[], T]) -> T:
        """Run on a worker thread; cancelled, interrupt the statement and wait for the
        thread to let go of the connection before the caller releases the lock."""
        work = asyncio.ensure_future(asyncio.to_thread(call))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            self.raw.interrupt()
            await asyncio.wait({work})
            if not work.cancelled():
                work.exception()  # retrieved: "interrupted" is expected here
            raise

    async def close(self) -> None:
        """Close the connection."""
        self.raw.close()


class Database:
    """One connection; writes are serialised by a lock and run as one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, writer: bool = False) -> Database:
        """Open (creating if needed) and migrate the database.

        A ``writer`` (the bot) is refused a read-only database at once, rather than
        failing every update later; readers (export, stats) need no write access.
        """
        raw = await asyncio.to_thread(_connect, str(path))
        conn = Connection(raw)
        try:
            db = cls(conn)
            await db.migrate()
            if writer:
                await db._check_writable()
        except BaseException:
            await conn.close()
            raise
        return db

    async def _check_writable(self) -> None:
        """Raise when the database cannot be written (read-only file, directory, mount)."""
        row = (await self.conn.execute("PRAGMA user_version")).fetchone()
        try:
            # in WAL mode BEGIN succeeds on a read-only file: only a real write tells
            await self.conn.execute("BEGIN IMMEDIATE")
            await self.conn.execute(f"PRAGMA user_version={int(row[0]) if row else 0}")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_READONLY:
                raise
            # busy: another process writes just now; the updates wait and retry
        finally:
            await self._rollback("ROLLBACK")

    async def migrate(self) -> None:
        """Apply the migrations this file has that the database lacks."""
        row = (await self.conn.execute("PRAGMA user_version")).fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self.conn.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;"
            )

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

    @asynccontextmanager
    async def update_transaction(self, update_id: int) -> AsyncIterator[Connection]:
        """Everything one update writes, and its id, as one transaction: all or nothing.

        An update may write several times (a clarification check, then the report; the
        direct-message flag, then the command). Committed one by one, each marking the
        update as handled, a crash between them lost the rest: the update counted as
        handled and was skipped when delivered again. Inside this block, `transaction()`
        is a savepoint and `read()` shares the open transaction.
        """
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            token = _held.set(self)
            try:
                yield self.conn
                if not self.conn.in_transaction:
                    # SQLite rolled it back (disk full, I/O error) and a handler went on:
                    # marking the update now would record it handled without its effect
                    raise sqlite3.OperationalError("the update's transaction was rolled back")
                await _mark_update(self.conn, update_id)
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback("ROLLBACK")
                raise
            finally:
                _held.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One write transaction; the update being handled is marked done inside it."""
        if _held.get() is self:
            async with self._savepoint() as conn:
                yield conn
            return
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                update_id = current_update_id.get()
                if update_id is not None:
                    await _mark_update(self.conn, update_id)
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback("ROLLBACK")
                raise

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[Connection]:
        """A nested write inside the update transaction: undone alone if it fails."""
        if not self.conn.in_transaction:
            # SQLite rolled the whole transaction back (disk full, I/O error): writing on
            # in autocommit mode would commit half an update
            raise sqlite3.OperationalError("the update's transaction was rolled back")
        name = f"sp{next(_savepoints)}"
        await self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield self.conn
            await self.conn.execute(f"RELEASE {name}")
        except BaseException:
            await self._rollback(f"ROLLBACK TO {name}", f"RELEASE {name}")
            raise

    async def _rollback(self, *statements: str) -> None:
        # after SQLITE_FULL or an I/O error SQLite may already have rolled back: a second
        # error here must not hide the first one
        if not self.conn.in_transaction:
            return
        with contextlib.suppress(sqlite3.Error):
            for statement in statements:
                await self.conn.execute(statement)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """Reads share the connection; the lock keeps them out of a write in progress."""
        if _held.get() is self:
            yield self.conn  # the update transaction of this task: read its own writes
            return
        async with self._lock:
            yield self.conn


def _connect(path: str) -> sqlite3.Connection:
    # check_same_thread off: offloaded reads run on a worker thread, one at a time (the lock)
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA busy_timeout=5000")  # here, on a worker thread, it may block
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("PRAGMA busy_timeout=0")  # from now on waited for in Connection
    except BaseException:
        raw.close()
        raise
    return raw


async def _mark_update(conn: Connection, update_id: int) -> None:
    await conn.execute(
        # the latest handled, not the highest: after Telegram renumbers its updates (a week
        # without any) the next offset must follow the new sequence
        "INSERT INTO meta(key, value) VALUES('last_update_id', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(update_id),),
    )
