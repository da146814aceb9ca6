"""The base of every use-case group: the constructor, who is who, and the shared steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.desk import Desk
from bot.domain.events import Escalated, Escalation, Fact, new_event
from bot.domain.roster import Override, Role, Roster, on_call_at
from bot.domain.tickets import Ticket, next_due_at
from bot.notices import Answer, DmNew, Feedback, NoOnCall, Notice, OnCallUnreachable, Refresh
from storage import outbox
from storage import repository as repo
from storage.db import Connection, Database


class ServicesBase:
    """The state the use cases share, and the steps more than one group takes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        desk: Desk,
        *,
        on_outbox: Callable[[], None] = lambda: None,
        on_schedule: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.desk = desk
        self._on_outbox = on_outbox
        self._on_schedule = on_schedule
        self.started_at = clock.now()
        self.migrated: dict[int, int] = {}  # new chat id -> the configured id it replaces

    @property
    def roster(self) -> Roster:
        """Who works the desk."""
        return self.desk.roster

    def set_listeners(
        self, on_outbox: Callable[[], None], on_schedule: Callable[[], None]
    ) -> None:
        """Wire the sender's and the timer's wake-up calls."""
        self._on_outbox = on_outbox
        self._on_schedule = on_schedule

    def _changed(self) -> None:
        self._on_outbox()
        self._on_schedule()

    # ---- who is who ---------------------------------------------------------------------

    def role_of(self, user_id: int, *, in_liaison_chat: bool = True) -> Role:
        """Role of a user: from the roster, else reporter inside the liaison chat."""
        person = self.roster.find_by_id(user_id)
        if person is not None and person.is_supervisor:
            return Role.SUPERVISOR
        if person is not None and person.is_moderator:
            return Role.MODERATOR
        return Role.REPORTER if in_liaison_chat else Role.STRANGER

    @property
    def supervisor_ids(self) -> tuple[int, ...]:
        """Who receives escalations."""
        return tuple(p.telegram_id for p in self.roster.supervisors)

    def is_rostered(self, user_id: int) -> bool:
        """True for people listed in the roster."""
        return self.roster.find_by_id(user_id) is not None

    async def overrides(self, conn: Connection, now: datetime) -> list[Override]:
        """Overrides still in force at or after `now`."""
        return await repo.list_overrides(conn, now - timedelta(days=1))

    async def unreachable(self, conn: Connection, telegram_id: int) -> bool:
        """Known to have left the liaison chat (the card's mention does not reach them) and
        without direct messages from the bot."""
        dm_open, in_chat = await repo.find_reach(conn, telegram_id)
        return not dm_open and in_chat is False

    # ---- shared steps -----------------------------------------------------------------------

    async def _each(
        self,
        actor: int,
        ticket_ids: Sequence[int],
        needed: Role,
        action: Callable[[Connection, int, Ticket, datetime], Awaitable[Feedback]],
    ) -> list[Feedback]:
        """Run an action on each ticket in one transaction, after the role check."""
        if not self.role_of(actor).covers(needed):
            return [Feedback(Answer.REFUSED)]
        now = self.clock.now()
        out: list[Feedback] = []
        async with self.db.transaction() as conn:
            for tid in dict.fromkeys(ticket_ids):
                t = await repo.find_ticket(conn, tid)
                if t is None:
                    out.append(Feedback(Answer.UNKNOWN_TICKET, tid))
                    continue
                out.append(await action(conn, actor, t, now))
        if any(f.changed for f in out):
            self._changed()
        return out

    async def _save(
        self,
        conn: Connection,
        t: Ticket,
        actor: int | None,
        fact: Fact,
        now: datetime,
    ) -> None:
        """Persist a ticket change, its event, and a refresh of every card showing it."""
        await repo.save_ticket(conn, t, next_due_at(t, self.desk.policy))
        await repo.add_events(conn, [new_event(t.id, now, actor, fact)])
        await self._refresh_cards(conn, t.id, now)

    async def _refresh_cards(self, conn: Connection, ticket_id: int, now: datetime) -> None:
        """Every card that shows this ticket is edited to show it as it is now."""
        cards = await repo.list_card_messages(conn, ticket_id)
        await outbox.add_outbox_many(
            conn, [(chat_id, Refresh(message_id=message_id)) for chat_id, message_id in cards], now
        )

    async def _say(self, conn: Connection, chat_id: int, notice: Notice, now: datetime) -> None:
        await outbox.add_outbox(conn, chat_id, notice, now)

    async def say(self, chat_id: int, notice: Notice) -> None:
        """Queue a reply (usage hints, refusals, lists) through the outbox."""
        async with self.db.transaction() as conn:
            await self._say(conn, chat_id, notice, self.clock.now())
        self._on_outbox()

    async def _notify_supervisors(self, conn: Connection, notice: Notice, now: datetime) -> None:
        """The supervisor chat (or the liaison chat) and each supervisor's direct messages."""
        target = self.desk.supervisor_chat_id or self.desk.chat_id
        dm_open = await repo.list_dm_open(conn)
        chats = [target, *(p for p in self.supervisor_ids if p in dm_open)]
        await outbox.add_outbox_many(conn, [(chat, notice) for chat in chats], now)

    async def _page_on_call(
        self,
        conn: Connection,
        ticket_ids: list[int],
        now: datetime,
        overrides: list[Override],
    ) -> None:
        """New tickets: the card mentions the on-call person; DM them; nobody -> supervisors."""
        duty = on_call_at(self.roster, overrides, now)
        supervisors = self.supervisor_ids
        tickets = tuple(ticket_ids)
        if duty is None:
            fact = Escalated(reason=Escalation.NOBODY_ON_CALL, recipients=supervisors)
            await repo.add_events(conn, [new_event(t, now, None, fact) for t in ticket_ids])
            await self._notify_supervisors(
                conn, NoOnCall(tickets=tickets, people=supervisors), now
            )
            return
        person = duty.person
        dm_open, in_chat = await repo.find_reach(conn, person.telegram_id)  # one row
        if dm_open:
            await self._say(conn, person.telegram_id, DmNew(tickets=tickets), now)
        elif in_chat is False:  # left the chat: the card's mention does not reach them
            fact = Escalated(
                reason=Escalation.UNREACHABLE, person=person.name, recipients=supervisors
            )
            await repo.add_events(conn, [new_event(t, now, None, fact) for t in ticket_ids])
            unreachable = OnCallUnreachable(tickets=tickets, name=person.name, people=supervisors)
            await self._notify_supervisors(conn, unreachable, now)
