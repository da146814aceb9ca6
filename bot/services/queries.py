"""Reading tickets, and supervisors' figures queued for the sender."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.categories import missing_keys
from bot.domain.events import Anchored, new_event
from bot.domain.roster import Role
from bot.domain.tickets import Ticket
from bot.notices import AnchorNotice, Answer, ExportFile, Feedback, ReportFiles, StatsReply
from bot.services.base import ServicesBase
from storage import outbox
from storage import repository as repo


class QueriesMixin(ServicesBase):
    """Reading."""

    async def request_figures(
        self, actor: int, chat_id: int, what: str, days: int, reply_to: int | None
    ) -> Feedback:
        """Supervisors' /stats, /report and /export: queued, rendered by the sender."""
        if not self.role_of(actor).covers(Role.SUPERVISOR):
            return Feedback(Answer.REFUSED)
        now = self.clock.now()
        kinds: dict[str, type[StatsReply | ReportFiles | ExportFile]] = {
            "stats": StatsReply,
            "report": ReportFiles,
            "export": ExportFile,
        }
        async with self.db.transaction() as conn:
            await self._say(conn, chat_id, kinds[what](days=days, reply_to=reply_to), now)
        self._on_outbox()
        return Feedback(Answer.QUEUED, changed=True, shown_in=chat_id)

    async def categories_missing(self) -> list[str]:
        """Category keys tickets of the database use that the desk's policy lacks (a
        LIAISON_POLICY file must keep them all: it is refused at start otherwise)."""
        async with self.db.read() as conn:
            in_use = await repo.list_categories_in_use(conn)
        return missing_keys(self.desk.policy.categories, in_use)

    async def request_anchor(self, actor: int, chat_id: int, reply_to: int | None) -> Feedback:
        """Supervisors' /anchor: the chain head, posted by the sender (SPEC "Proof")."""
        if not self.role_of(actor).covers(Role.SUPERVISOR):
            return Feedback(Answer.REFUSED)
        async with self.db.transaction() as conn:
            await self._say(conn, chat_id, AnchorNotice(reply_to=reply_to), self.clock.now())
        self._on_outbox()
        return Feedback(Answer.QUEUED, changed=True, shown_in=chat_id)

    async def record_anchor(
        self,
        chat_id: int,
        message_id: int,
        head: tuple[int, str],
        delivered: Sequence[int] = (),
    ) -> None:
        """Message `message_id` showed the chain head `head`: the anchor joins the chain as
        an event of no ticket (Telegram's date on the message timestamps it). `delivered`:
        the outbox rows that message carried, marked sent in the same transaction (a crash
        cannot leave the anchor recorded and its row pending, to be posted again)."""
        seq, digest = head
        fact = Anchored(seq=seq, hash=digest, chat_id=chat_id, message_id=message_id)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await repo.add_events(conn, [new_event(None, now, None, fact)])
            if delivered:
                await outbox.mark_outbox_sent(conn, list(delivered), now, message_id)

    # ---- reading --------------------------------------------------------------------------

    async def find_ticket(self, ticket_id: int) -> Ticket | None:
        """A ticket by number."""
        async with self.db.read() as conn:
            return await repo.find_ticket(conn, ticket_id)

    async def tickets_on_message(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets a bot message is about (for commands sent as replies)."""
        async with self.db.read() as conn:
            return [t.id for t in await repo.list_tickets_on_card(conn, chat_id, message_id)]

    async def tickets_on_card(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets a card message shows (not a notice that merely names them)."""
        async with self.db.read() as conn:
            return await repo.list_tickets_of_card(conn, chat_id, message_id)

    async def ticket_for_report(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets created from a given report message."""
        async with self.db.read() as conn:
            return await repo.list_tickets_of_report(conn, chat_id, message_id)
