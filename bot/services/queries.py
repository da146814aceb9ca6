"""Reading tickets, and supervisors' figures queued for the sender."""

from __future__ import annotations

from typing import Any

from bot.domain.tickets import Ticket
from bot.services.base import ServicesBase
from bot.services.records import RANK, Feedback, Role
from storage import repository as repo


class QueriesMixin(ServicesBase):
    """Reading."""

    async def request_figures(
        self, actor: int, chat_id: int, what: str, days: int, reply_to: int | None
    ) -> Feedback:
        """Supervisors' /stats, /report and /export: queued, rendered by the sender."""
        if RANK[self.role_of(actor)] < RANK[Role.SUPERVISOR]:
            return Feedback("refused", {})
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if what == "stats":
                await self._say(conn, chat_id, "stats", now, {"days": days}, reply_to)
            else:
                payload: dict[str, Any] = {"days": days}
                if reply_to is not None:
                    payload["reply_to"] = reply_to
                await repo.add_outbox(conn, chat_id, what, payload, now)
        self._on_outbox()
        return Feedback("queued", {}, changed=True, shown_in=chat_id)

    # ---- reading --------------------------------------------------------------------------

    async def find_ticket(self, ticket_id: int) -> Ticket | None:
        """A ticket by number."""
        async with self.db.read() as conn:
            return await repo.find_ticket(conn, ticket_id)

    async def tickets_on_message(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets a bot message is about (for commands sent as replies)."""
        async with self.db.read() as conn:
            return [t.id for t in await repo.list_tickets_on_card(conn, chat_id, message_id)]

    async def ticket_for_report(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets created from a given report message."""
        async with self.db.read() as conn:
            return await repo.list_tickets_of_report(conn, chat_id, message_id)
