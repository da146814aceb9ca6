"""Orders (documents of links): the order rows and which tickets each one created."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.tickets import Ticket
from storage.db import Connection
from storage.repository import TICKET_COLUMNS, _ticket, must_instant, to_db


@dataclass(frozen=True, slots=True)
class Order:
    """A document posted in the liaison chat: who, when, and its caption as reference."""

    id: int
    chat_id: int
    message_id: int
    reporter_id: int
    reference: str
    created_at: datetime


async def add_order(
    conn: Connection,
    chat_id: int,
    message_id: int,
    reporter_id: int,
    reference: str,
    now: datetime,
) -> int:
    """Insert an order and return its number."""
    cur = await conn.execute(
        "INSERT INTO orders(chat_id, message_id, reporter_id, reference, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (chat_id, message_id, reporter_id, reference, to_db(now)),
    )
    if cur.lastrowid is None:
        raise RuntimeError("insert returned no id")
    return cur.lastrowid


async def find_order(conn: Connection, order_id: int) -> Order | None:
    """The order with this number, or None."""
    rows = await conn.execute_fetchall(
        "SELECT id, chat_id, message_id, reporter_id, reference, created_at FROM orders "
        "WHERE id = ?",
        (order_id,),
    )
    if not rows:
        return None
    r = rows[0]
    return Order(
        r["id"], r["chat_id"], r["message_id"], r["reporter_id"], r["reference"],
        must_instant(r["created_at"]),
    )  # fmt: skip


async def add_order_tickets(conn: Connection, order_id: int, ticket_ids: Sequence[int]) -> None:
    """The tickets an order created belong to it (one statement for all)."""
    await conn.executemany(
        "INSERT INTO order_tickets(ticket_id, order_id) VALUES (?, ?)",
        [(t, order_id) for t in ticket_ids],
    )


async def list_order_tickets(conn: Connection, order: Order) -> list[Ticket]:
    """Every ticket the order's document reported: the ones it created and the ones it
    counted as duplicates (its reports), by number."""
    rows = await conn.execute_fetchall(
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ("
        "SELECT ticket_id FROM reports WHERE chat_id = ? AND message_id = ?) ORDER BY id",
        (order.chat_id, order.message_id),
    )
    return [_ticket(r) for r in rows]


async def orders_of_tickets(conn: Connection, ticket_ids: Sequence[int]) -> dict[int, int]:
    """The order number of each of these tickets that an order created."""
    out: dict[int, int] = {}
    ids = list(ticket_ids)
    for start in range(0, len(ids), 500):  # within SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = await conn.execute_fetchall(
            f"SELECT ticket_id, order_id FROM order_tickets WHERE ticket_id IN ({marks})", chunk
        )
        out.update({r[0]: r[1] for r in rows})
    return out
