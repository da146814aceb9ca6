"""SQLite through aiosqlite: WAL, migrations by PRAGMA user_version, serialised transactions."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

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
    # 5: typed history: each event's structured fields as JSON beside its kind (the rows of
    # earlier releases get theirs from their sentences: storage/upgrades.py)
    """
    ALTER TABLE events ADD COLUMN data TEXT NOT NULL DEFAULT '{}';
    """,
    # 6: typed notices: each outbox row is a notice kind and its fields (storage/upgrades.py);
    # the sender looks up one chat's due rows
    """
    CREATE INDEX ix_outbox_chat ON outbox(chat_id, id) WHERE state = 'pending';
    """,
    # 7: the hash chain (SPEC "Proof"): every event's place, its predecessor's hash and its
    # own; the events already there get theirs in id order (storage/upgrades.py)
    """
    ALTER TABLE events ADD COLUMN seq INTEGER;
    ALTER TABLE events ADD COLUMN prev TEXT;
    ALTER TABLE events ADD COLUMN hash TEXT;
    CREATE UNIQUE INDEX ux_events_seq ON events(seq);
    """,
    # 8: the history is append-only: SQLite itself refuses to change or remove an event
    """
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: no UPDATE'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: no DELETE'); END;
    """,
    # 9: categories (issue 14): every ticket has one; the tickets already there are in the
    # default category, as their `created` events (without a category) say
    """
    ALTER TABLE tickets ADD COLUMN category TEXT NOT NULL DEFAULT 'other';
    """,
    # 10: events that belong to no ticket (anchors: the chain head posted in the chat) have
    # no ticket_id; SQLite cannot drop a NOT NULL, so the table is rebuilt as it was, rows,
    # indexes and triggers included (dropping a table fires no DELETE trigger)
    """
    CREATE TABLE events_new (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER REFERENCES tickets(id),
        at TEXT NOT NULL,
        actor_id INTEGER,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL DEFAULT '{}',
        seq INTEGER,
        prev TEXT,
        hash TEXT
    );
    INSERT INTO events_new(id, ticket_id, at, actor_id, kind, detail, data, seq, prev, hash)
        SELECT id, ticket_id, at, actor_id, kind, detail, data, seq, prev, hash FROM events;
    DROP TABLE events;
    ALTER TABLE events_new RENAME TO events;
    CREATE INDEX ix_events_ticket ON events(ticket_id, id);
    CREATE INDEX ix_events_at ON events(at);
    CREATE UNIQUE INDEX ux_events_seq ON events(seq);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: no UPDATE'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: no DELETE'); END;
    """,
    # 11: orders: a document of links is an order; its new tickets
    # belong to it
    """
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        reporter_id INTEGER NOT NULL,
        reference TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX ux_orders_message ON orders(chat_id, message_id);
    -- the ticket's order (tickets.order_id, kept beside the table: the upgrade keeps every
    -- ticket row as it was, column for column)
    CREATE TABLE order_tickets (
        ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
        order_id INTEGER NOT NULL REFERENCES orders(id)
    );
    CREATE INDEX ix_order_tickets_order ON order_tickets(order_id);
    """,
    # 12: the categories in use are read at every start (a policy file must keep them):
    # without an index that was a scan of every ticket (0.47 s for a million)
    """
    CREATE INDEX ix_tickets_category ON tickets(category);
    """,
]


BUSY_TIMEOUT_MS = 5000  # how long a statement waits for another process's write lock


class StorageError(Exception):
    """The database refused an operation; the ``sqlite3.Error`` is the ``__cause__``."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code  # SQLite's extended result code, where there was one

    @property
    def readonly(self) -> bool:
        """The database (file, directory or mount) cannot be written."""
        return self.code is not None and self.code & 0xFF == sqlite3.SQLITE_READONLY

    @property
    def busy(self) -> bool:
        """Another connection held the lock for longer than the busy timeout."""
        return self.code is not None and self.code & 0xFF in (
            sqlite3.SQLITE_BUSY,
            sqlite3.SQLITE_LOCKED,
        )


def _storage_error(exc: sqlite3.Error) -> StorageError:
    return StorageError(str(exc), code=getattr(exc, "sqlite_errorcode", None))


class Cursor:
    """What a statement tells: ``lastrowid``, ``rowcount``, and its rows."""

    def __init__(self, cursor: aiosqlite.Cursor) -> None:
        self._cursor = cursor

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last inserted row."""
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        """How many rows the statement changed."""
        return self._cursor.rowcount

    async def fetchone(self) -> sqlite3.Row | None:
        """The next row of the result."""
        try:
            row: sqlite3.Row | None = await self._cursor.fetchone()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc
        return row


class Connection:
    """An aiosqlite connection behind the methods the repositories use.

    Every statement runs on aiosqlite's worker thread, one after another in the order they
    were issued; the event loop only waits. So disk I/O, WAL checkpoints and SQLite's own
    busy wait (``busy_timeout``) never stop it. Errors come out as ``StorageError``.
    """

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw
        # the hash chain's head (seq, hash): committed, and as this transaction moved it.
        # Kept here so appending events costs no read; None: read it (once) when needed
        self._chain_head: tuple[int, str] | None = None
        self._chain_pending: tuple[int, str] | None = None

    async def chain_head(self) -> tuple[int, str]:
        """The last event's (seq, hash) as this transaction sees it; (0, 64 zeros) first."""
        if self._chain_pending is not None:
            return self._chain_pending
        if self._chain_head is None:
            rows = await self.execute_fetchall(
                "SELECT seq, hash FROM events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
            )
            self._chain_head = (int(rows[0][0]), str(rows[0][1])) if rows else (0, "0" * 64)
        return self._chain_head

    def chain_moved(self, head: tuple[int, str]) -> None:
        """Events were appended up to `head`: it stands once the transaction commits."""
        if self.in_transaction:
            self._chain_pending = head
        else:  # autocommit: the insert is already committed
            self._chain_head, self._chain_pending = head, None

    def chain_committed(self) -> None:
        """The transaction committed: its head is the chain's."""
        if self._chain_pending is not None:
            self._chain_head, self._chain_pending = self._chain_pending, None

    def chain_forgotten(self) -> None:
        """Rolled back (or not known how it ended): read the head again when needed."""
        self._chain_head = self._chain_pending = None

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (SQLite may have rolled it back after an error)."""
        return self.raw.in_transaction

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        """Run one statement; the cursor tells ``lastrowid`` and ``rowcount``."""
        try:
            return Cursor(await self.raw.execute(sql, args))
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        """Run one statement for each row."""
        batch = list(rows)  # here: the rows may come from a generator of the caller's
        try:
            return Cursor(await self.raw.executemany(sql, batch))
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    async def executescript(self, script: str) -> None:
        """Run several statements (migrations)."""
        try:
            await self.raw.executescript(script)
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    async def execute_fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        try:
            return list(await self.raw.execute_fetchall(sql, args))
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    async def close(self) -> None:
        """Close the connection (after the statements already issued)."""
        try:
            await self.raw.close()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc


class Database:
    """One connection; writes are serialised by a lock and run as one transaction.

    The task inside ``update_transaction`` is remembered (``asyncio.current_task()``): its
    own ``transaction()`` and ``read()`` calls join the update's transaction instead of
    waiting for the lock it holds. PTB's ``process_update`` runs the handlers in the
    caller's task; a task they start is another task and waits its turn.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()
        self._update_task: asyncio.Task[Any] | None = None

    @classmethod
    async def open(cls, path: Path | str, *, writer: bool = False) -> Database:
        """Open (creating if needed) and migrate the database.

        A ``writer`` (the bot) is refused a read-only database at once, rather than
        failing every update later; readers (export, stats) need no write access.
        """
        conn = Connection(await _connect(str(path)))
        try:
            db = cls(conn)
            await db.migrate()
            if writer:
                await db._check_writable()
        except BaseException:
            with contextlib.suppress(StorageError):
                await conn.close()
            raise
        return db

    async def _check_writable(self) -> None:
        """Raise when the database cannot be written (read-only file, directory, mount)."""
        [row] = await self.conn.execute_fetchall("PRAGMA user_version")
        try:
            # in WAL mode BEGIN succeeds on a read-only file: only a real write tells
            await self.conn.execute("BEGIN IMMEDIATE")
            await self.conn.execute(f"PRAGMA user_version={int(row[0])}")
        except StorageError as exc:
            if exc.readonly or not isinstance(exc.__cause__, sqlite3.OperationalError):
                raise
            # busy: another process writes just now; the updates wait and retry
        finally:
            await self._rollback("ROLLBACK")

    async def migrate(self) -> None:
        """Apply the migrations this file has that the database lacks."""
        [row] = await self.conn.execute_fetchall("PRAGMA user_version")
        version = int(row[0])
        from storage.upgrades import UPGRADES

        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            step = UPGRADES.get(number)
            if step is None:
                await self.conn.executescript(
                    f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;"
                )
                continue
            await self.conn.executescript(f"BEGIN;\n{script}")
            try:
                await step(self.conn)
                await self.conn.execute(f"PRAGMA user_version={number}")
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback("ROLLBACK")
                raise
        self.conn.chain_forgotten()  # an upgrade may have built the chain

    async def close(self) -> None:
        """Close the connection."""
        await self.conn.close()

    def _holds_update(self) -> bool:
        """Whether the running task is inside this database's update transaction."""
        return self._update_task is not None and self._update_task is asyncio.current_task()

    @asynccontextmanager
    async def update_transaction(self, update_id: int) -> AsyncIterator[Connection]:
        """Everything one update writes, and its id, as one transaction: all or nothing.

        An update may write several times (a clarification check, then the report; the
        direct-message flag, then the command). Committed one by one, each marking the
        update as handled, a crash between them lost the rest: the update counted as
        handled and was skipped when delivered again. Inside this block, the same task's
        `transaction()` and `read()` join the open transaction: the update's writes stand or
        fall together (a write that fails fails the update; see bot/pipeline.py), so a
        savepoint per write would only cost two more trips to the worker thread.
        """
        async with self._lock:
            try:
                # inside: a BEGIN cancelled while it waits on the worker thread still runs
                # there, and the ROLLBACK queued after it must end what it opens
                await self.conn.execute("BEGIN IMMEDIATE")
                self._update_task = asyncio.current_task()
                yield self.conn
                if not self.conn.in_transaction:
                    # SQLite rolled it back (disk full, I/O error) and a handler went on:
                    # marking the update now would record it handled without its effect
                    raise StorageError("the update's transaction was rolled back")
                await _mark_update(self.conn, update_id)
                await self.conn.execute("COMMIT")
                self.conn.chain_committed()
            except BaseException:
                await self._rollback("ROLLBACK")
                raise
            finally:
                self._update_task = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """One write transaction; inside this task's update transaction, a part of it."""
        if self._holds_update():
            if not self.conn.in_transaction:
                # SQLite rolled the whole transaction back (disk full, I/O error): writing on
                # in autocommit mode would commit half an update
                raise StorageError("the update's transaction was rolled back")
            yield self.conn
            return
        async with self._lock:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")  # inside: see update_transaction
                yield self.conn
                await self.conn.execute("COMMIT")
                self.conn.chain_committed()
            except BaseException:
                await self._rollback("ROLLBACK")
                raise

    async def _rollback(self, *statements: str) -> None:
        # Not skipped when `in_transaction` says no: after a cancellation the BEGIN may still
        # be queued on the worker thread, and the rollback must follow it there. Failing is
        # fine (after SQLITE_FULL or an I/O error SQLite may already have rolled back), and
        # a second error here must not hide the first one.
        self.conn.chain_forgotten()
        with contextlib.suppress(StorageError):
            for statement in statements:
                await self.conn.execute(statement)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """Reads share the connection; the lock keeps them out of a write in progress."""
        if self._holds_update():
            yield self.conn  # the update transaction of this task: read its own writes
            return
        async with self._lock:
            yield self.conn


async def _connect(path: str) -> aiosqlite.Connection:
    raw = aiosqlite.connect(path, isolation_level=None)
    # aiosqlite's worker is not a daemon thread: a connection left open by a failed start
    # would keep the process from ever exiting. Stopped at any instant, WAL loses nothing.
    raw._thread.daemon = True
    try:
        await raw
    except sqlite3.Error as exc:
        raise _storage_error(exc) from exc
    try:
        raw.row_factory = sqlite3.Row
        for pragma in (
            f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",  # waited for on the worker thread
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
        ):
            await raw.execute(pragma)
    except BaseException as exc:
        with contextlib.suppress(sqlite3.Error):
            await raw.close()
        if isinstance(exc, sqlite3.Error):
            raise _storage_error(exc) from exc
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
