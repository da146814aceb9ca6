"""Orders: a document of links posted in the liaison chat becomes tickets, as one update."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.domain.categories import category_tags
from bot.domain.links import is_urgent
from bot.domain.orders import OrderRefused, ParsedOrder, Refusal, parse_order
from bot.domain.tickets import Ticket
from bot.notices import Card, OrderRefusal, OrderSummary
from bot.services.intake import IntakeMixin
from bot.services.records import Intake, OrderIn
from bot.workbook import read_workbook
from storage import orders as order_repo
from storage.orders import Order


@dataclass(frozen=True, slots=True)
class OrderResult:
    """What an order produced: its number (None: refused, and why) and its tickets."""

    order: int | None = None
    refused: Refusal | None = None
    new: tuple[int, ...] = ()
    duplicates: tuple[int, ...] = ()


class OrdersMixin(IntakeMixin):
    """Orders of many links."""

    async def take_order(self, order: OrderIn) -> OrderResult:
        """Parse the document (off the event loop), then every link a ticket of one new
        order, one summary reply and its cards (grouped by the sender), in one transaction:
        inside an update's transaction the whole document stands or falls together."""
        try:
            parsed = await asyncio.to_thread(
                parse_order, order.file_name, order.data, read_workbook
            )
        except OrderRefused as exc:
            await self.refuse_order(order.chat_id, order.message_id, exc.reason, order.thread)
            return OrderResult(refused=exc.reason)
        return await self._take_parsed(order, parsed)

    async def refuse_order(
        self, chat_id: int, message_id: int, reason: Refusal, thread: int | None = None
    ) -> None:
        """A one-line refusal in reply to the document; nothing else is written."""
        refusal = OrderRefusal(reason=reason.value, reply_to=message_id, thread=thread)
        await self.say(chat_id, refusal)

    async def _take_parsed(self, order: OrderIn, parsed: ParsedOrder) -> OrderResult:
        now = self.clock.now()
        caption = order.caption.strip()
        async with self.db.transaction() as conn:
            order_id = await order_repo.add_order(
                conn, order.chat_id, order.message_id, order.reporter_id, caption, now
            )
            # the caption's tags (`Surat B-123/2026 #judol`) set every new ticket's category
            intake = Intake(
                chat_id=order.chat_id,
                message_id=order.message_id,
                reporter_id=order.reporter_id,
                links=parsed.links,
                urgent=is_urgent(caption),
                thread=order.thread,
                order=order_id,
                tags=tuple(category_tags(caption)),
            )
            overrides = await self.overrides(conn, now)
            new: list[int] = []
            dups: list[int] = []
            for link in parsed.links:
                ticket_id, created = await self._intake_one(conn, intake, link, now)
                (new if created else dups).append(ticket_id)
            await order_repo.add_order_tickets(conn, order_id, new)
            summary = OrderSummary(
                order=order_id,
                new=tuple(new),
                dup=tuple(dups),
                repeats=parsed.repeats,
                without=parsed.without_link,
                reply_to=order.message_id,
                thread=order.thread,
            )
            await self._say(conn, order.chat_id, summary, now)
            if new:
                # one Card notice: the sender sends it a full card at a time (40 tickets)
                card = Card(tickets=tuple(new), thread=order.thread)
                await self._say(conn, order.chat_id, card, now)
                await self._page_on_call(conn, new, now, overrides)
        self._changed()
        return OrderResult(order_id, None, tuple(new), tuple(dups))

    async def order_status(self, order_id: int) -> tuple[Order, list[Ticket]] | None:
        """An order and every ticket its document reported (None: no such order)."""
        async with self.db.read() as conn:
            found = await order_repo.find_order(conn, order_id)
            if found is None:
                return None
            return found, await order_repo.list_order_tickets(conn, found)
