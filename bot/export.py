"""Tickets and their history as plain data (for `liaison-bot export`, `/report` and stats)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, TextIO

from bot.domain.tickets import EscalationPolicy, Ticket, deadline_at
from storage import orders as order_repo
from storage import repository as repo
from storage.db import Database

PAGE = 500  # tickets per read of a streamed export

FIELDS = (
    "id",
    "link",
    "status",
    "urgent",
    "reporter_id",
    "assignee_id",
    "report_count",
    "created_at",
    "acknowledged_at",
    "closed_at",
    "deadline_at",
    "outcome",
    "reopened_from",
    "paused_seconds",
    "category",
)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def ticket_record(
    t: Ticket,
    events: Sequence[dict[str, Any]],
    policy: EscalationPolicy,
    since: datetime | None = None,
    order: int | None = None,
) -> dict[str, Any]:
    """One ticket as SPEC's export object; `events` as `repo.list_export_events` reads them
    (each with its link in the hash chain: seq, prev, hash). `export_since` says the export
    holds only the tickets created since then (`--since`): the chain has gaps there."""
    return {
        "id": t.id,
        "link": t.link,
        "status": t.status.value,
        "urgent": t.urgent,
        "reporter_id": t.reporter_id,
        "assignee_id": t.assignee_id,
        "report_count": t.report_count,
        "created_at": _iso(t.created_at),
        "acknowledged_at": _iso(t.acknowledged_at),
        "closed_at": _iso(t.closed_at),
        "deadline_at": _iso(deadline_at(t, policy)),
        "outcome": t.outcome.value if t.outcome else None,
        "reopened_from": t.reopened_from,
        "paused_seconds": t.paused_total.total_seconds(),
        "category": t.category,
        "order": order,  # the order (document) that created it
        "export_since": _iso(since),
        "events": list(events),
    }


def ticketless_record(
    events: Sequence[dict[str, Any]], since: datetime | None = None
) -> dict[str, Any]:
    """The export's last element when the chain holds events of no ticket (anchors): no
    `id`, only those `events` (hashed with `ticket` null) and `export_since`."""
    return {"export_since": _iso(since), "events": list(events)}


async def load_records(
    db: Database,
    policy: EscalationPolicy,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    ticketless: bool = True,
) -> list[dict[str, Any]]:
    """Tickets created in [since, until) with their events, oldest first, then (unless
    `ticketless` is false: tickets only, as the CSV has them) the events of no ticket
    recorded in that time, if any: SPEC's JSON export."""
    async with db.read() as conn:
        tickets = await repo.list_tickets_between(conn, since, until)
        events = await repo.list_export_events(conn, [t.id for t in tickets])
        others = await repo.list_ticketless_events(conn, since, until) if ticketless else []
        orders = await order_repo.orders_of_tickets(conn, [t.id for t in tickets])
    records = [ticket_record(t, events[t.id], policy, since, orders.get(t.id)) for t in tickets]
    return [*records, ticketless_record(others, since)] if others else records


async def stream_records(
    db: Database, policy: EscalationPolicy, since: datetime | None = None, page: int = PAGE
) -> AsyncIterator[dict[str, Any]]:
    """Tickets created since `since` with their events, oldest first, a page at a time:
    memory holds one page, however long the history (each page is one read); then the
    events of no ticket, if any (`ticketless_record`)."""
    last = 0
    while True:
        async with db.read() as conn:
            tickets = await repo.list_tickets_page(conn, since, last, page)
            events = await repo.list_export_events(conn, [t.id for t in tickets])
            orders = await order_repo.orders_of_tickets(conn, [t.id for t in tickets])
        for t in tickets:
            yield ticket_record(t, events[t.id], policy, since, orders.get(t.id))
        if len(tickets) < page:
            break
        last = tickets[-1].id
    async with db.read() as conn:
        others = await repo.list_ticketless_events(conn, since)
    if others:
        yield ticketless_record(others, since)


async def write_json(records: AsyncIterator[dict[str, Any]], out: TextIO) -> int:
    """SPEC's JSON export written as it is read: a list of tickets, one per line (and the
    events of no ticket as the last line); returns how many tickets."""
    out.write("[")
    lines = count = 0
    async for record in records:
        out.write(",\n" if lines else "\n")
        out.write(json.dumps(record, ensure_ascii=False))
        lines += 1
        count += 1 if "id" in record else 0
    out.write("\n]\n" if lines else "]\n")
    return count


def to_json(records: Sequence[dict[str, Any]]) -> str:
    """SPEC's JSON export: a list of tickets."""
    return json.dumps(list(records), ensure_ascii=False, indent=2)


def to_csv(records: Sequence[dict[str, Any]]) -> str:
    """One row per ticket; the history goes in an `events` column as JSON."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*FIELDS, "events"], lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = {k: record[k] for k in FIELDS}
        row["urgent"] = "true" if record["urgent"] else "false"
        row["events"] = json.dumps(record["events"], ensure_ascii=False)
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
