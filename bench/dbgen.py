"""Databases generated directly: the bot's own migrations, then bulk inserts in SQL.

Each ticket is first a row of a temporary `spec` table (number and instants, in integer
microseconds); plain INSERT … SELECT statements then derive the rows the bot would have
written for it: the ticket, its report, its history, its card, its evidence. Indexes are
dropped for the load and rebuilt with their own SQL, so the file has exactly the schema
`storage.db` creates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.world import CHAT
from storage.db import Database

US = 1_000_000
Spec = tuple[int, int, int | None, int | None, int | None, int]


def micros(at: datetime) -> int:
    """An aware instant as integer microseconds since the epoch."""
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(microseconds=1)


def _iso(column: str) -> str:
    # the text `storage.repository.to_db` writes: 2026-11-23T08:00:00.000000+00:00
    text = (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / {US}, 'unixepoch') "
        f"|| printf('.%06d+00:00', {column} % {US})"
    )
    return f"(CASE WHEN {column} IS NULL THEN NULL ELSE {text} END)"


_LINK = "'https://t.me/kanal_' || printf('%04d', n % 5000) || '/' || n"
_MODERATOR = "1001 + n % 2"
_REPORTER = "3001 + n % 5"  # bench.world.REPORTERS

_DERIVE = [
    f"""INSERT INTO tickets(id, link, link_key, channel, status, urgent, reporter_id, chat_id,
        report_message_id, assignee_id, report_count, created_at, clock_start_at,
        acknowledged_at, closed_at, outcome, paused_seconds, esc_step, next_due_at,
        card_message_id)
    SELECT n, {_LINK}, {_LINK}, 'kanal_' || printf('%04d', n % 5000),
        CASE WHEN closed IS NOT NULL THEN 'removed' WHEN ack IS NOT NULL THEN 'acknowledged'
             ELSE 'open' END,
        0, {_REPORTER}, {CHAT}, 2 * n, CASE WHEN ack IS NOT NULL THEN {_MODERATOR} END, 1,
        created, created, ack, closed,
        CASE WHEN closed IS NOT NULL THEN 'removed' END, 0.0, 0, due, 2 * n + 1
    FROM spec ORDER BY n""",
    f"""INSERT INTO reports(ticket_id, chat_id, message_id, reporter_id, at)
    SELECT n, {CHAT}, 2 * n, {_REPORTER}, created FROM spec ORDER BY n""",
    f"""INSERT INTO events(ticket_id, at, actor_id, kind, detail)
    SELECT n, created, {_REPORTER}, 'created', {_LINK} FROM spec ORDER BY n""",
    f"""INSERT INTO events(ticket_id, at, actor_id, kind, detail)
    SELECT n, ack, {_MODERATOR}, 'acknowledged', '' FROM spec
    WHERE ack IS NOT NULL ORDER BY n""",
    f"""INSERT INTO events(ticket_id, at, actor_id, kind, detail)
    SELECT n, closed, {_MODERATOR}, 'removed', 'removed' FROM spec
    WHERE closed IS NOT NULL ORDER BY n""",
    f"""INSERT INTO bot_messages(chat_id, message_id, ticket_id, kind)
    SELECT {CHAT}, 2 * n + 1, n, 'card' FROM spec ORDER BY n""",
    f"""INSERT INTO evidence(ticket_id, text, media, at)
    SELECT n, 'Konten propaganda ' || {_LINK}, '[]', created FROM spec
    WHERE evidence ORDER BY n""",
]


async def create_schema(path: Path) -> None:
    """An empty database at `path`, migrated by the bot's own code."""
    db = await Database.open(path)
    await db.close()


class Loader:
    """Bulk load into a freshly migrated file; `close()` derives the rows and re-indexes."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        # no journal for the load (a failed load is simply generated again); WAL again after
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-400000")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.indexes = list(
            self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        )
        self.conn.execute("BEGIN")
        for name, _ in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.conn.execute(
            "CREATE TEMP TABLE raw (n INTEGER PRIMARY KEY, created INTEGER NOT NULL, "
            "ack INTEGER, closed INTEGER, due INTEGER, evidence INTEGER NOT NULL)"
        )

    def add_rows(self, rows: Iterable[Spec]) -> None:
        """(n, created, ack, closed, due, keep evidence) in microseconds."""
        self.conn.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?)", rows)

    def add_series(
        self,
        first: int,
        count: int,
        *,
        created_from: int,
        created_step: int,
        ack_after: int | None,
        closed_after: int | None,
        due_after: int | None,
        evidence_since: int,
    ) -> None:
        """`count` tickets numbered from `first`, created every `created_step` µs."""

        def after(offset: int | None) -> str:
            return "NULL" if offset is None else f"c + {offset}"

        self.conn.execute(
            f"""WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1),
            t(n, c) AS (SELECT ? + i, ? + i * ? FROM s)
            INSERT INTO raw SELECT n, c, {after(ack_after)}, {after(closed_after)},
                {after(due_after)}, coalesce({after(closed_after)}, c) >= ? FROM t""",
            (count, first, created_from, created_step, evidence_since),
        )

    def close(self) -> None:
        """Derive every table from the specs, rebuild the indexes, checkpoint."""
        # each instant formatted once (strftime is most of the cost of the load)
        self.conn.execute(
            "CREATE TEMP TABLE spec AS SELECT n, "
            f"{_iso('created')} AS created, {_iso('ack')} AS ack, {_iso('closed')} AS closed, "
            f"{_iso('due')} AS due, evidence FROM raw ORDER BY n"
        )
        self.conn.execute("DROP TABLE raw")
        for sql in _DERIVE:
            self.conn.execute(sql)
        self.conn.execute("DROP TABLE spec")
        for _, sql in self.indexes:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


async def escalation_db(path: Path, created: list[datetime], ack: timedelta) -> None:
    """Open, unacknowledged tickets created at the given instants (first step: `ack` later)."""
    await create_schema(path)
    loader = Loader(path)
    loader.add_rows(
        (n, micros(c), None, None, micros(c + ack), 1) for n, c in enumerate(created, start=1)
    )
    loader.close()


async def growth_db(
    path: Path, now: datetime, *, closed: int, open_: int, retention: timedelta
) -> None:
    """`closed` tickets over the past three years (evidence kept within `retention` of
    closing) and `open_` acknowledged ones of the last 3.5 hours: none falls due within the
    next half hour under the default deadlines (4 h to close)."""
    await create_schema(path)
    loader = Loader(path)
    minute = 60 * US
    hour = 60 * minute
    begin = micros(now - timedelta(days=3 * 365))
    end = micros(now - timedelta(hours=5))
    loader.add_series(
        1,
        closed,
        created_from=begin,
        created_step=(end - begin) // closed,
        ack_after=7 * minute,
        closed_after=2 * hour,
        due_after=None,
        evidence_since=micros(now - retention),
    )
    begin = micros(now - timedelta(hours=3, minutes=30))
    loader.add_series(
        closed + 1,
        open_,
        created_from=begin,
        created_step=(micros(now) - begin) // open_,
        ack_after=5 * minute,
        closed_after=None,
        due_after=4 * hour,
        evidence_since=0,
    )
    loader.close()
