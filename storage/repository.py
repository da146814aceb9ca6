"""Queries and writes; returns frozen dataclasses, never rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.events import Event, from_data, to_data
from bot.domain.proof import event_hash, instant
from bot.domain.roster import Override
from bot.domain.tickets import Outcome, Status, Ticket
from storage.db import Connection


class NotFoundError(LookupError):
    """A `get_*` found nothing."""


def to_db(at: datetime | None) -> str | None:
    """Store instants as fixed-width ISO 8601 in UTC so text order is time order."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    """Parse a stored instant."""
    return None if text is None else datetime.fromisoformat(text)


def must_instant(text: str | None) -> datetime:
    value = from_db(text)
    if value is None:
        raise ValueError("missing instant")
    return value


@dataclass(frozen=True, slots=True)
class Evidence:
    """What was kept of the reported content at intake."""

    ticket_id: int
    text: str | None
    media: tuple[str, ...]
    origin: str | None
    origin_chat_id: int | None
    origin_message_id: int | None
    origin_date: datetime | None
    at: datetime


TICKET_COLUMNS = (
    "id, link, link_key, channel, status, urgent, reporter_id, chat_id, report_message_id, "
    "assignee_id, report_count, created_at, clock_start_at, acknowledged_at, closed_at, outcome, "
    "reopened_from, paused_at, paused_seconds, esc_step, last_escalated_at, card_message_id, "
    "clarify_message_id, category"
)


def _ticket(row: sqlite3.Row) -> Ticket:
    return Ticket(
        id=row["id"],
        link=row["link"],
        link_key=row["link_key"],
        channel=row["channel"],
        status=Status(row["status"]),
        urgent=bool(row["urgent"]),
        reporter_id=row["reporter_id"],
        chat_id=row["chat_id"],
        report_message_id=row["report_message_id"],
        assignee_id=row["assignee_id"],
        report_count=row["report_count"],
        created_at=must_instant(row["created_at"]),
        clock_start_at=must_instant(row["clock_start_at"]),
        acknowledged_at=from_db(row["acknowledged_at"]),
        closed_at=from_db(row["closed_at"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        reopened_from=row["reopened_from"],
        paused_at=from_db(row["paused_at"]),
        paused_total=timedelta(seconds=row["paused_seconds"]),
        esc_step=row["esc_step"],
        last_escalated_at=from_db(row["last_escalated_at"]),
        card_message_id=row["card_message_id"],
        clarify_message_id=row["clarify_message_id"],
        category=row["category"],
    )


async def _all(conn: Connection, sql: str, args: Sequence[Any] = ()) -> list[Any]:
    return list(await conn.execute_fetchall(sql, args))


async def _all_long(conn: Connection, sql: str, args: Sequence[Any] = ()) -> list[Any]:
    """A read that grows with the history (a period's tickets); like every read, it runs on
    aiosqlite's thread, off the event loop."""
    return await _all(conn, sql, args)


async def _one(conn: Connection, sql: str, args: Sequence[Any] = ()) -> Any:
    rows = await conn.execute_fetchall(sql, args)
    return next(iter(rows), None)


# ---- tickets -------------------------------------------------------------------------------


async def find_ticket(conn: Connection, ticket_id: int) -> Ticket | None:
    """The ticket with this number, or None."""
    row = await _one(conn, f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))
    return _ticket(row) if row else None


async def get_ticket(conn: Connection, ticket_id: int) -> Ticket:
    """The ticket with this number; raises NotFoundError."""
    ticket = await find_ticket(conn, ticket_id)
    if ticket is None:
        raise NotFoundError(ticket_id)
    return ticket


async def find_open_by_key(conn: Connection, link_key: str) -> Ticket | None:
    """The open ticket for this content, if any."""
    row = await _one(
        conn,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE link_key = ? AND closed_at IS NULL",
        (link_key,),
    )
    return _ticket(row) if row else None


async def find_latest_by_key(conn: Connection, link_key: str) -> Ticket | None:
    """The open ticket for this content if there is one, else its most recent closed one
    (one read for intake: a duplicate, or content back)."""
    row = await _one(
        conn,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE link_key = ? "
        "ORDER BY closed_at IS NULL DESC, id DESC LIMIT 1",
        (link_key,),
    )
    return _ticket(row) if row else None


async def add_ticket(conn: Connection, t: Ticket, next_due_at: datetime | None) -> int:
    """Insert a new ticket (its `id` is ignored) and return its number."""
    cur = await conn.execute(
        "INSERT INTO tickets(link, link_key, channel, status, urgent, reporter_id, chat_id, "
        "report_message_id, created_at, clock_start_at, reopened_from, next_due_at, category) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            t.link,
            t.link_key,
            t.channel,
            t.status.value,
            int(t.urgent),
            t.reporter_id,
            t.chat_id,
            t.report_message_id,
            to_db(t.created_at),
            to_db(t.clock_start_at),
            t.reopened_from,
            to_db(next_due_at),
            t.category,
        ),
    )
    if cur.lastrowid is None:
        raise RuntimeError("insert returned no id")
    return cur.lastrowid


async def save_ticket(conn: Connection, t: Ticket, next_due_at: datetime | None) -> None:
    """Write back a ticket's mutable fields (with its next escalation instant)."""
    await conn.execute(
        "UPDATE tickets SET status=?, urgent=?, assignee_id=?, report_count=?, clock_start_at=?, "
        "acknowledged_at=?, closed_at=?, outcome=?, paused_at=?, paused_seconds=?, esc_step=?, "
        "last_escalated_at=?, next_due_at=?, card_message_id=?, clarify_message_id=?, "
        "category=? WHERE id=?",
        (
            t.status.value,
            int(t.urgent),
            t.assignee_id,
            t.report_count,
            to_db(t.clock_start_at),
            to_db(t.acknowledged_at),
            to_db(t.closed_at),
            t.outcome.value if t.outcome else None,
            to_db(t.paused_at),
            t.paused_total.total_seconds(),
            t.esc_step,
            to_db(t.last_escalated_at),
            to_db(next_due_at),
            t.card_message_id,
            t.clarify_message_id,
            t.category,
            t.id,
        ),
    )


async def list_open_tickets(conn: Connection) -> list[Ticket]:
    """Every ticket not yet closed."""
    rows = await _all(
        conn, f"SELECT {TICKET_COLUMNS} FROM tickets WHERE closed_at IS NULL ORDER BY id"
    )
    return [_ticket(r) for r in rows]


async def list_open_in_channel(conn: Connection, channel: str) -> list[Ticket]:
    """Open tickets reported against one channel."""
    rows = await _all(
        conn,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE closed_at IS NULL AND channel = ? "
        "ORDER BY id",
        (channel,),
    )
    return [_ticket(r) for r in rows]


async def count_open_in_channel(conn: Connection, channel: str) -> int:
    """How many tickets of this channel are open (the card's roll-up)."""
    row = await _one(
        conn,
        "SELECT COUNT(*) FROM tickets WHERE closed_at IS NULL AND channel = ?",
        (channel,),
    )
    return int(row[0])


async def list_due_tickets(conn: Connection, now: datetime) -> list[Ticket]:
    """Tickets whose next escalation step is due at `now` (uses the due index)."""
    rows = await _all(
        conn,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE next_due_at IS NOT NULL "
        "AND next_due_at <= ? ORDER BY next_due_at",
        (to_db(now),),
    )
    return [_ticket(r) for r in rows]


async def find_next_due_at(conn: Connection) -> datetime | None:
    """The earliest pending escalation instant."""
    row = await _one(conn, "SELECT MIN(next_due_at) FROM tickets WHERE next_due_at IS NOT NULL")
    return from_db(row[0]) if row else None


async def list_tickets_on_card(conn: Connection, chat_id: int, message_id: int) -> list[Ticket]:
    """Tickets shown on (or pinged by) one bot message."""
    rows = await _all(
        conn,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN "
        "(SELECT ticket_id FROM bot_messages WHERE chat_id = ? AND message_id = ?) ORDER BY id",
        (chat_id, message_id),
    )
    return [_ticket(r) for r in rows]


async def list_tickets_of_card(conn: Connection, chat_id: int, message_id: int) -> list[int]:
    """Tickets shown on one card message."""
    rows = await _all(
        conn,
        "SELECT ticket_id FROM bot_messages WHERE chat_id = ? AND message_id = ? "
        "AND kind = 'card' ORDER BY ticket_id",
        (chat_id, message_id),
    )
    return [r[0] for r in rows]


async def list_card_messages(conn: Connection, ticket_id: int) -> list[tuple[int, int]]:
    """(chat_id, message_id) of every card that shows this ticket."""
    rows = await _all(
        conn,
        "SELECT chat_id, message_id FROM bot_messages WHERE ticket_id = ? AND kind = 'card'",
        (ticket_id,),
    )
    return [(r[0], r[1]) for r in rows]


async def add_bot_message(
    conn: Connection, chat_id: int, message_id: int, ticket_ids: Iterable[int], kind: str
) -> None:
    """Remember which tickets a sent message is about (replies to it target them)."""
    await conn.executemany(
        "INSERT OR IGNORE INTO bot_messages(chat_id, message_id, ticket_id, kind) "
        "VALUES (?, ?, ?, ?)",
        [(chat_id, message_id, t, kind) for t in ticket_ids],
    )


def _within(column: str, since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
    """The SQL condition and its arguments for `column` in [since, until) (an open end is
    no condition; both open: `1=1`)."""
    parts, args = ["1=1"], []
    if since is not None:
        parts.append(f"{column} >= ?")
        args.append(to_db(since))
    if until is not None:
        parts.append(f"{column} < ?")
        args.append(to_db(until))
    return " AND ".join(parts), args


async def list_tickets_between(
    conn: Connection, since: datetime | None, until: datetime | None = None
) -> list[Ticket]:
    """Tickets created in [since, until), oldest first."""
    where, args = _within("created_at", since, until)
    rows = await _all_long(
        conn, f"SELECT {TICKET_COLUMNS} FROM tickets WHERE {where} ORDER BY id", args
    )
    return [_ticket(r) for r in rows]


async def set_clarify_message(conn: Connection, ticket_id: int, message_id: int) -> None:
    """Remember the bot's question so a reply to it is recognised as the answer."""
    await conn.execute(
        "UPDATE tickets SET clarify_message_id = ? WHERE id = ?", (message_id, ticket_id)
    )


async def count_closed_since(conn: Connection, since: datetime) -> int:
    """Tickets closed at or after an instant."""
    row = await _one(conn, "SELECT COUNT(*) FROM tickets WHERE closed_at >= ?", (to_db(since),))
    return int(row[0])


async def find_ticket_by_clarification(
    conn: Connection, chat_id: int, message_id: int
) -> Ticket | None:
    """The ticket waiting on a clarification question (any it was asked) with this message id."""
    row = await _one(
        conn,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE status = 'clarification' AND ("
        "(chat_id = ? AND clarify_message_id = ?) OR id IN (SELECT ticket_id FROM bot_messages "
        "WHERE chat_id = ? AND message_id = ? AND kind = 'clarify'))",
        (chat_id, message_id, chat_id, message_id),
    )
    return _ticket(row) if row else None


# ---- reports, events, evidence --------------------------------------------------------------


async def add_report(
    conn: Connection,
    ticket_id: int,
    chat_id: int,
    message_id: int,
    reporter_id: int,
    now: datetime,
) -> None:
    """Record one report of a ticket."""
    await conn.execute(
        "INSERT INTO reports(ticket_id, chat_id, message_id, reporter_id, at) "
        "VALUES (?, ?, ?, ?, ?)",
        (ticket_id, chat_id, message_id, reporter_id, to_db(now)),
    )


async def list_reported_again(conn: Connection, chat_id: int, message_id: int) -> list[Ticket]:
    """Tickets this report message named that an earlier message had created (by number)."""
    rows = await conn.execute_fetchall(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ("
        "SELECT ticket_id FROM reports WHERE chat_id = ? AND message_id = ?) "
        "AND NOT (chat_id = ? AND report_message_id = ?) ORDER BY id",
        (chat_id, message_id, chat_id, message_id),
    )
    return [_ticket(r) for r in rows]


async def list_tickets_of_report(conn: Connection, chat_id: int, message_id: int) -> list[int]:
    """Tickets a given report message created or counted."""
    rows = await _all(
        conn,
        "SELECT DISTINCT ticket_id FROM reports WHERE chat_id = ? AND message_id = ? ORDER BY 1",
        (chat_id, message_id),
    )
    return [r[0] for r in rows]


async def add_events(conn: Connection, events: Sequence[Event]) -> list[str]:
    """Append to tickets' histories: kind, the readable detail, the fields as JSON, and each
    event's link in the hash chain (seq, prev, hash); returns the hashes.

    The chain head comes from the connection (kept across transactions, no read per
    event): one statement for the whole batch, as before the chain.
    """
    seq, prev = await conn.chain_head()
    rows: list[tuple[Any, ...]] = []
    hashes: list[str] = []
    for e in events:
        at = e.at.astimezone(UTC).isoformat(timespec="microseconds")  # as to_db writes it
        data = to_data(e.fact)
        seq += 1
        digest = event_hash(
            ticket=e.ticket_id,
            seq=seq,
            prev=prev,
            at=instant(at),
            actor_id=e.actor_id,
            kind=e.kind.value,
            detail=e.detail,
            data=data,
        )
        stored = json.dumps(data, ensure_ascii=False, sort_keys=True)
        kind = e.kind.value
        rows.append((e.ticket_id, at, e.actor_id, kind, e.detail, stored, seq, prev, digest))
        hashes.append(digest)
        prev = digest
    if not rows:
        return hashes
    await conn.executemany(
        "INSERT INTO events(ticket_id, at, actor_id, kind, detail, data, seq, prev, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.chain_moved((seq, prev))
    return hashes


async def find_receipts(conn: Connection, ticket_ids: Sequence[int]) -> dict[int, str]:
    """The hash of each ticket's `created` event (its receipt)."""
    return await _event_hashes(conn, ticket_ids, "kind = 'created' AND hash IS NOT NULL", [])


async def find_duplicate_receipts(
    conn: Connection, ticket_ids: Sequence[int], message_id: int
) -> dict[int, str]:
    """The hash of the `duplicate` event a report message made on each ticket."""
    where = "kind = 'duplicate' AND json_extract(data, '$.message_id') = ?"
    return await _event_hashes(conn, ticket_ids, where, [message_id])


async def _event_hashes(
    conn: Connection, ticket_ids: Sequence[int], where: str, args: list[Any]
) -> dict[int, str]:
    """ticket -> hash of its events matching `where` (a fixed condition, ? for `args`)."""
    if not ticket_ids:
        return {}
    marks = ",".join("?" * len(ticket_ids))
    rows = await _all(
        conn,
        f"SELECT ticket_id, hash FROM events WHERE ticket_id IN ({marks}) AND {where} ORDER BY id",
        [*ticket_ids, *args],
    )
    return {r[0]: r[1] for r in rows}


async def find_chain_head(conn: Connection) -> tuple[int, str]:
    """The last event's (seq, hash) as committed."""
    return await conn.chain_head()


_EXPORTED = "at, actor_id, kind, detail, data, seq, prev, hash"  # columns of `_exported`


def _exported(r: Sequence[Any]) -> dict[str, Any]:
    """An event as the export writes it (and as it was hashed): the stored fields."""
    return {
        "at": instant(r[0]),
        "actor_id": r[1],
        "kind": r[2],
        "detail": r[3],
        "data": json.loads(r[4]),
        "seq": r[5],
        "prev": r[6],
        "hash": r[7],
    }


async def list_export_events(
    conn: Connection, ticket_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Histories of many tickets as the export writes them: the stored fields as they
    were hashed (no typed facts in between), in time order."""
    result: dict[int, list[dict[str, Any]]] = {t: [] for t in ticket_ids}
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = await _all_long(
            conn,
            f"SELECT ticket_id, {_EXPORTED} FROM events "
            f"WHERE ticket_id IN ({marks}) ORDER BY ticket_id, at, id",
            chunk,
        )
        for r in rows:
            result[r[0]].append(_exported(r[1:]))
    return result


async def list_ticketless_events(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """The events of no ticket (anchors) recorded in [since, until), as the export writes
    them, in seq order."""
    where, args = _within("at", since, until)
    sql = f"SELECT {_EXPORTED} FROM events WHERE ticket_id IS NULL AND {where} ORDER BY seq"
    return [_exported(r) for r in await _all_long(conn, sql, args)]


async def list_tickets_page(
    conn: Connection, since: datetime | None, after_id: int, limit: int
) -> list[Ticket]:
    """Up to `limit` tickets created at or after `since` with numbers above `after_id`."""
    sql = f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id > ?"
    args: list[Any] = [after_id]
    if since is not None:
        sql += " AND created_at >= ?"
        args.append(to_db(since))
    rows = await _all_long(conn, sql + " ORDER BY id LIMIT ?", [*args, limit])
    return [_ticket(r) for r in rows]


_EVENT_COLUMNS = "id, ticket_id, at, actor_id, kind, detail, data"


def _event(row: sqlite3.Row) -> Event:
    return Event(
        id=row["id"],
        ticket_id=row["ticket_id"],
        at=must_instant(row["at"]),
        actor_id=row["actor_id"],
        fact=from_data(row["kind"], json.loads(row["data"])),
        detail=row["detail"],
    )


async def list_events(conn: Connection, ticket_id: int) -> list[Event]:
    """A ticket's history in time order."""
    rows = await _all(
        conn,
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE ticket_id = ? ORDER BY at, id",
        (ticket_id,),
    )
    return [_event(r) for r in rows]


async def list_events_for(conn: Connection, ticket_ids: Sequence[int]) -> dict[int, list[Event]]:
    """Histories of many tickets at once."""
    result: dict[int, list[Event]] = {t: [] for t in ticket_ids}
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = await _all_long(
            conn,
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE ticket_id IN ({marks}) ORDER BY at, id",
            chunk,
        )
        for r in rows:
            result[r["ticket_id"]].append(_event(r))
    return result


async def add_evidence(
    conn: Connection,
    ticket_id: int,
    now: datetime,
    *,
    text: str | None,
    media: Sequence[str],
    origin: str | None,
    origin_chat_id: int | None,
    origin_message_id: int | None,
    origin_date: datetime | None,
) -> None:
    """Keep what the report showed, before the content vanishes."""
    await conn.execute(
        "INSERT INTO evidence(ticket_id, text, media, origin, origin_chat_id, origin_message_id, "
        "origin_date, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            text,
            json.dumps(list(media)),
            origin,
            origin_chat_id,
            origin_message_id,
            to_db(origin_date),
            to_db(now),
        ),
    )


async def list_evidence(conn: Connection, ticket_id: int) -> list[Evidence]:
    """Evidence kept for a ticket."""
    rows = await _all(
        conn,
        "SELECT ticket_id, text, media, origin, origin_chat_id, origin_message_id, origin_date, "
        "at FROM evidence WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    )
    return [
        Evidence(
            ticket_id=r["ticket_id"],
            text=r["text"],
            media=tuple(json.loads(r["media"])),
            origin=r["origin"],
            origin_chat_id=r["origin_chat_id"],
            origin_message_id=r["origin_message_id"],
            origin_date=from_db(r["origin_date"]),
            at=must_instant(r["at"]),
        )
        for r in rows
    ]


async def list_purgeable_evidence(conn: Connection, closed_before: datetime) -> list[int]:
    """Tickets closed before the cut-off that still hold evidence."""
    rows = await _all_long(
        conn,
        "SELECT DISTINCT t.id FROM tickets t JOIN evidence e ON e.ticket_id = t.id "
        "WHERE t.closed_at IS NOT NULL AND t.closed_at < ? ORDER BY t.id",
        (to_db(closed_before),),
    )
    return [r[0] for r in rows]


async def delete_evidence(conn: Connection, ticket_id: int) -> int:
    """Remove a ticket's evidence; returns how many items went."""
    cur = await conn.execute("DELETE FROM evidence WHERE ticket_id = ?", (ticket_id,))
    return cur.rowcount


# ---- overrides, people, meta ----------------------------------------------------------------


async def add_override(conn: Connection, override: Override, set_by: int, now: datetime) -> None:
    """Record an on-call override."""
    await conn.execute(
        'INSERT INTO overrides(person_id, start, "end", set_by, at) VALUES (?, ?, ?, ?, ?)',
        (override.person_id, to_db(override.start), to_db(override.end), set_by, to_db(now)),
    )


async def list_overrides(conn: Connection, active_after: datetime) -> list[Override]:
    """Overrides that end after the given instant, oldest first."""
    rows = await _all(
        conn,
        'SELECT person_id, start, "end" FROM overrides WHERE "end" > ? ORDER BY id',
        (to_db(active_after),),
    )
    return [Override(r[0], must_instant(r[1]), must_instant(r[2])) for r in rows]


async def mark_dm_open(conn: Connection, telegram_id: int, is_open: bool, now: datetime) -> None:
    """Remember whether a direct message to this person can be delivered."""
    await conn.execute(
        "INSERT INTO people(telegram_id, dm_open, dm_refused_at) VALUES (?, ?, ?) "
        "ON CONFLICT(telegram_id) DO UPDATE SET dm_open = excluded.dm_open, "
        "dm_refused_at = excluded.dm_refused_at",
        (telegram_id, int(is_open), None if is_open else to_db(now)),
    )


async def list_dm_open(conn: Connection) -> set[int]:
    """People who have started the bot and not blocked it."""
    rows = await _all(conn, "SELECT telegram_id FROM people WHERE dm_open = 1")
    return {r[0] for r in rows}


async def mark_in_chat(conn: Connection, telegram_id: int, present: bool) -> None:
    """Remember whether this person is a member of the liaison chat."""
    await conn.execute(
        "INSERT INTO people(telegram_id, in_chat) VALUES (?, ?) "
        "ON CONFLICT(telegram_id) DO UPDATE SET in_chat = excluded.in_chat",
        (telegram_id, int(present)),
    )


async def find_reach(conn: Connection, telegram_id: int) -> tuple[bool, bool | None]:
    """How the bot can reach someone: direct messages open; in the liaison chat (None: not
    known, taken as present)."""
    sql = "SELECT dm_open, in_chat FROM people WHERE telegram_id = ?"
    row = await _one(conn, sql, (telegram_id,))
    if row is None:
        return False, None
    return bool(row[0]), None if row[1] is None else bool(row[1])


async def find_meta(conn: Connection, key: str) -> str | None:
    """A stored setting of the bot's own state."""
    row = await _one(conn, "SELECT value FROM meta WHERE key = ?", (key,))
    return row[0] if row else None


async def set_meta(conn: Connection, key: str, value: str) -> None:
    """Store a piece of the bot's own state."""
    await conn.execute(
        "INSERT INTO meta(key, value) VALUES(?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def count_reports_between(
    conn: Connection, since: datetime | None, until: datetime | None = None
) -> int:
    """Reports (duplicates included) received in [since, until)."""
    where, args = _within("at", since, until)
    rows = await _all_long(conn, f"SELECT COUNT(*) FROM reports WHERE {where}", args)
    return int(rows[0][0])


async def list_tickets_by_ids(conn: Connection, ids: Sequence[int]) -> list[Ticket]:
    """Tickets with these numbers, in the order asked (unknown numbers left out)."""
    found: dict[int, Ticket] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = await _all(
            conn, f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ({marks})", chunk
        )
        found.update((r["id"], _ticket(r)) for r in rows)
    return [found[i] for i in wanted if i in found]


async def list_categories_in_use(conn: Connection) -> list[str]:
    """Every category key some ticket has (a policy file must keep them all)."""
    # one index step per category, not a scan (SQLite does no skip-scan for DISTINCT)
    rows = await _all(
        conn,
        "WITH RECURSIVE seen(category) AS ("
        " SELECT MIN(category) FROM tickets"
        " UNION ALL SELECT (SELECT MIN(category) FROM tickets WHERE category > seen.category)"
        " FROM seen WHERE seen.category IS NOT NULL)"
        " SELECT category FROM seen WHERE category IS NOT NULL",
    )
    return [row["category"] for row in rows]
