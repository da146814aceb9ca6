"""SQLite connection: WAL, migrations by PRAGMA user_version, serialised transactions."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

# The update being handled: its id is committed in the same transaction as its effect,
# so a re-delivered update is recognised and skipped (see bot/polling.py).
current_update_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_update_id", default=None
)

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
]


class Database:
    """One aiosqlite connection; writes are serialised by a lock and run as one transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) and migrate the database."""
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        db = cls(conn)
        await db.migrate()
        return db

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
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; the update being handled is marked done inside it."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                update_id = current_update_id.get()
                if update_id is not None:
                    await _mark_update(self.conn, update_id)
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Reads share the connection; the lock keeps them out of a write in progress."""
        async with self._lock:
            yield self.conn


async def _mark_update(conn: aiosqlite.Connection, update_id: int) -> None:
    await conn.execute(
        "INSERT INTO meta(key, value) VALUES('last_update_id', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value "
        "WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        (str(update_id),),
    )
