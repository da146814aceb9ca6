"""SQLite connection: WAL, migrations by PRAGMA user_version, serialised transactions."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

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
]


class Database:
    """One aiosqlite connection; writes are serialised by a lock and run as one transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, writer: bool = False) -> Database:
        """Open (creating if needed) and migrate the database.

        A ``writer`` (the bot) is refused a read-only database at once, rather than
        failing every update later; readers (export, stats) need no write access.
        """
        # a plain open first: when aiosqlite's fails, its worker thread outlives the error
        # and reports into a closed event loop (a stray traceback after a clean stop)
        await asyncio.to_thread(_try_open, str(path))
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            db = cls(conn)
            await db.migrate()
            if writer:
                await db._check_writable()
        except BaseException:
            await conn.close()  # its worker thread would keep the process from exiting
            raise
        return db

    async def _check_writable(self) -> None:
        """Raise when the database cannot be written (read-only file, directory, mount)."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
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
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self.conn.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;"
            )

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

    @asynccontextmanager
    async def update_transaction(self, update_id: int) -> AsyncIterator[aiosqlite.Connection]:
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
                await _mark_update(self.conn, update_id)
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback("ROLLBACK")
                raise
            finally:
                _held.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
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
    async def _savepoint(self) -> AsyncIterator[aiosqlite.Connection]:
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
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads share the connection; the lock keeps them out of a write in progress."""
        if _held.get() is self:
            yield self.conn  # the update transaction of this task: read its own writes
            return
        async with self._lock:
            yield self.conn


def _try_open(path: str) -> None:
    sqlite3.connect(path).close()


async def _mark_update(conn: aiosqlite.Connection, update_id: int) -> None:
    await conn.execute(
        # the latest handled, not the highest: after Telegram renumbers its updates (a week
        # without any) the next offset must follow the new sequence
        "INSERT INTO meta(key, value) VALUES('last_update_id', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(update_id),),
    )
