"""Tickets and their history as plain data (for `liaison-bot export`, `/report` and stats)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.events import Event, to_data
from bot.domain.tickets import EscalationPolicy, Ticket, deadline_at
from storage import repository as repo
from storage.db import Database

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
)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def ticket_record(t: Ticket, events: Sequence[Event], policy: EscalationPolicy) -> dict[str, Any]:
    """One ticket as SPEC's export object."""
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
        "events": [
            {
                "at": _iso(e.at),
                "actor_id": e.actor_id,
                "kind": e.kind.value,
                "detail": e.detail,
                "data": to_data(e.fact),
            }
            for e in events
        ],
    }


async def load_records(
    db: Database,
    policy: EscalationPolicy,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Tickets created in [since, until) with their events, oldest first."""
    async with db.read() as conn:
        tickets = await repo.list_tickets_between(conn, since, until)
        events = await repo.list_events_for(conn, [t.id for t in tickets])
    return [ticket_record(t, events[t.id], policy) for t in tickets]


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
