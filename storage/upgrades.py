"""Upgrade steps that SQL alone cannot do: they rewrite rows with the domain's own rules.

Each runs inside its migration's transaction, after that migration's SQL, so an upgrade
is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.domain.events import parse_legacy, to_data
from bot.domain.proof import ZERO, event_hash, instant
from bot.notices import NOTICES

if TYPE_CHECKING:  # storage.db runs these steps: no import at run time
    from storage.db import Connection

BATCH = 5000


async def _rewrite(
    conn: Connection,
    select: str,
    update: str,
    change: Callable[[Any], tuple[Any, ...] | None],
) -> None:
    """Every row `select` names (`... FROM table WHERE id > ? ORDER BY id LIMIT ?`), in id
    order and in batches: `change` gives a row's parameters for `update`, or None."""
    last = 0
    while True:
        rows = await conn.execute_fetchall(select, (last, BATCH))
        if not rows:
            return
        await conn.executemany(update, [c for r in rows if (c := change(r)) is not None])
        last = rows[-1]["id"]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


async def type_events(conn: Connection) -> None:
    """Migration 5: every event written as free text gets its structured fields."""
    await _rewrite(
        conn,
        "SELECT id, kind, detail FROM events WHERE id > ? ORDER BY id LIMIT ?",
        "UPDATE events SET data = ? WHERE id = ?",
        lambda r: (_json(to_data(parse_legacy(r["kind"], r["detail"]))), r["id"]),
    )


# the previous release's "say" arguments under another name in the typed notices
_RENAMED: dict[str, str] = {"from": "from_id", "to": "to_id"}


def typed_notice(kind: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """An outbox row of the previous release (`card`, `refresh`, `say` with a template key
    and untyped arguments, …) as the kind and fields of its typed notice; None when no
    notice reads it (the row is kept as it is and recorded as failed if it comes up)."""
    if kind == "card":
        fields = {"tickets": payload.get("new", []), "dup": payload.get("dup", [])}
        if payload.get("reply_to") is not None:
            fields["reply_to"] = payload["reply_to"]
        return kind, fields
    if kind in ("refresh", "report", "export", "leave"):
        return kind, dict(payload)
    if kind != "say":
        return None
    key = payload.get("key")
    args = payload.get("args", {})
    if not isinstance(key, str) or key not in NOTICES or not isinstance(args, dict):
        return None
    fields = {_RENAMED.get(str(name), str(name)): value for name, value in args.items()}
    if key == "clarified":
        fields["paused_seconds"] = int(float(fields.pop("paused", 0)))
    if key == "feedback":
        fields["items"] = [_feedback(item) for item in fields.get("items", [])]
    if payload.get("reply_to") is not None:
        fields["reply_to"] = payload["reply_to"]
    return key, fields


def _feedback(item: dict[str, Any]) -> dict[str, Any]:
    args = item.get("args", {})
    return {
        "key": item["key"],
        "ticket": args.get("id"),
        "name": args.get("name") or args.get("username") or "",
        "changed": bool(item.get("changed", False)),
        "shown_in": item.get("shown_in"),
    }


async def type_outbox(conn: Connection) -> None:
    """Migration 6: every queued notification becomes its typed notice."""

    def change(r: Any) -> tuple[Any, ...] | None:
        typed = typed_notice(r["kind"], json.loads(r["payload"]))
        return None if typed is None else (typed[0], _json(typed[1]), r["id"])

    await _rewrite(
        conn,
        "SELECT id, kind, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
        "UPDATE outbox SET kind = ?, payload = ? WHERE id = ?",
        change,
    )


async def chain_events(conn: Connection) -> None:
    """Migration 7: the events already recorded get their place in the hash chain, in the
    order they were written (id order), hashed as the export writes them."""
    seq, prev = 0, ZERO

    def change(r: Any) -> tuple[Any, ...]:
        nonlocal seq, prev
        seq += 1
        digest = event_hash(
            ticket=r["ticket_id"],
            seq=seq,
            prev=prev,
            at=instant(r["at"]),
            actor_id=r["actor_id"],
            kind=r["kind"],
            detail=r["detail"],
            data=json.loads(r["data"]),
        )
        row, prev = (seq, prev, digest, r["id"]), digest
        return row

    await _rewrite(
        conn,
        "SELECT id, ticket_id, at, actor_id, kind, detail, data FROM events "
        "WHERE id > ? ORDER BY id LIMIT ?",
        "UPDATE events SET seq = ?, prev = ?, hash = ? WHERE id = ?",
        change,
    )


UPGRADES: dict[int, Callable[[Connection], Awaitable[None]]] = {
    5: type_events,
    6: type_outbox,
    7: chain_events,
}
