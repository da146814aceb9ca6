"""The outbox: notices queued with the change that causes them, until they are delivered."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.notices import Card, Notice, from_payload, to_payload
from storage.db import Connection
from storage.repository import from_db, must_instant, to_db


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A notice waiting to be delivered (or delivered); `notice` is None for a row no
    notice class can read (it is recorded as failed, never retried)."""

    id: int
    chat_id: int
    kind: str
    notice: Notice | None
    created_at: datetime
    not_before: datetime | None
    attempts: int
    state: str


async def add_outbox(
    conn: Connection,
    chat_id: int,
    notice: Notice,
    now: datetime,
    not_before: datetime | None = None,
) -> int:
    """Queue a notice in the same transaction as the change that causes it (held back
    until `not_before` when given)."""
    return (await add_outbox_many(conn, [(chat_id, notice)], now, not_before))[0]


async def add_outbox_many(
    conn: Connection,
    items: Sequence[tuple[int, Notice]],
    now: datetime,
    not_before: datetime | None = None,
) -> list[int]:
    """Queue several notices at once; returns their row ids in order."""
    ids: list[int] = []
    for chat_id, notice in items:
        cur = await conn.execute(
            "INSERT INTO outbox(chat_id, kind, payload, created_at, not_before) "
            "VALUES (?, ?, ?, ?, ?)",
            (chat_id, notice.KIND, _encode(notice), to_db(now), to_db(not_before)),
        )
        ids.append(cur.lastrowid or 0)
    return ids


def _encode(notice: Notice) -> str:
    return json.dumps(to_payload(notice), ensure_ascii=False, sort_keys=True)


async def find_pending_album_card(
    conn: Connection, chat_id: int, album: str
) -> tuple[int, Card] | None:
    """The card of an album still waiting to go out (its members join it), if any."""
    rows = await conn.execute_fetchall(
        "SELECT id, kind, payload FROM outbox WHERE state = 'pending' AND chat_id = ? "
        "AND kind = 'card' AND json_extract(payload, '$.album') = ? ORDER BY id DESC LIMIT 1",
        (chat_id, album),
    )
    for row in rows:
        notice = _notice(row["kind"], row["payload"])
        if isinstance(notice, Card):
            return row["id"], notice
    return None


async def replace_pending(conn: Connection, row_id: int, notice: Notice) -> None:
    """A notice not yet delivered says more now (an album's card gains a member)."""
    await conn.execute(
        "UPDATE outbox SET payload = ? WHERE id = ? AND state = 'pending'",
        (_encode(notice), row_id),
    )


def _notice(kind: str, payload: str) -> Notice | None:
    try:
        data = json.loads(payload)
        return from_payload(kind, data) if isinstance(data, dict) else None
    except ValueError:
        return None


def _outbox(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        notice=_notice(row["kind"], row["payload"]),
        created_at=must_instant(row["created_at"]),
        not_before=from_db(row["not_before"]),
        attempts=row["attempts"],
        state=row["state"],
    )


_COLUMNS = "id, chat_id, kind, payload, created_at, not_before, attempts, state"


async def list_pending_outbox(
    conn: Connection,
    limit: int = 500,
    *,
    chat_id: int | None = None,
    due_at: datetime | None = None,
) -> list[OutboxItem]:
    """Undelivered notices in the order they were queued (of one chat; due by an instant)."""
    sql = f"SELECT {_COLUMNS} FROM outbox WHERE state = 'pending'"
    args: list[object] = []
    if chat_id is not None:
        sql += " AND chat_id = ?"
        args.append(chat_id)
    if due_at is not None:
        sql += " AND (not_before IS NULL OR not_before <= ?)"
        args.append(to_db(due_at))
    rows = await conn.execute_fetchall(sql + " ORDER BY id LIMIT ?", (*args, limit))
    return [_outbox(r) for r in rows]


async def list_outbox_chats(conn: Connection, now: datetime) -> list[tuple[int, datetime | None]]:
    """Chats with undelivered notices, each with when the next may go out (None: now)."""
    rows = await conn.execute_fetchall(
        "SELECT chat_id, MIN(CASE WHEN not_before IS NULL OR not_before <= ? THEN '' "
        "ELSE not_before END) FROM outbox WHERE state = 'pending' GROUP BY chat_id",
        (to_db(now),),
    )
    return [(r[0], from_db(r[1] or None)) for r in rows]


async def mark_outbox_sent(
    conn: Connection, ids: Sequence[int], now: datetime, message_id: int | None
) -> None:
    """Delivered: never sent again."""
    await conn.executemany(
        "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, "
        "attempts = attempts + 1 WHERE id = ?",
        [(to_db(now), message_id, i) for i in ids],
    )


async def mark_outbox_retry(
    conn: Connection, ids: Sequence[int], not_before: datetime, error: str
) -> None:
    """A transient failure: try again later."""
    await conn.executemany(
        "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ? WHERE id = ?",
        [(to_db(not_before), error[:500], i) for i in ids],
    )


async def mark_outbox_failed(conn: Connection, ids: Sequence[int], error: str) -> None:
    """A permanent failure (e.g. 403 on a direct message): kept for the record, not retried."""
    await conn.executemany(
        "UPDATE outbox SET attempts = attempts + 1, state = 'failed', error = ? WHERE id = ?",
        [(error[:500], i) for i in ids],
    )


async def move_outbox_chat(conn: Connection, old_id: int, new_id: int) -> None:
    """A group became a supergroup: its undelivered notices go to the new id."""
    await conn.execute(
        "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state = 'pending'", (new_id, old_id)
    )
