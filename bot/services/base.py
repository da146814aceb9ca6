"""The base of every use-case group: the constructor, who is who, and the shared steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.domain.roster import Override, Roster, on_call_at
from bot.domain.tickets import Ticket, next_due_at
from bot.services.records import RANK, Feedback, Role, ServiceConfig
from storage import repository as repo
from storage.db import Connection, Database


class ServicesBase:
    """The state the use cases share, and the steps more than one group takes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        roster: Roster,
        config: ServiceConfig,
        *,
        on_outbox: Callable[[], None] = lambda: None,
        on_schedule: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.roster = roster
        self.config = config
        self._on_outbox = on_outbox
        self._on_schedule = on_schedule
        self.started_at = clock.now()
        self.migrated: dict[int, int] = {}  # new chat id -> the configured id it replaces

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
        action: Callable[[Connection, int, Ticket, datetime], Any],
    ) -> list[Feedback]:
        """Run an action on each ticket in one transaction, after the role check."""
        if RANK[self.role_of(actor)] < RANK[needed]:
            return [Feedback("refused", {})]
        now = self.clock.now()
        out: list[Feedback] = []
        async with self.db.transaction() as conn:
            for tid in dict.fromkeys(ticket_ids):
                t = await repo.find_ticket(conn, tid)
                if t is None:
                    out.append(Feedback("unknown_ticket", {"id": tid}))
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
        kind: str,
        detail: str,
        now: datetime,
    ) -> None:
        """Persist a ticket change, its event, and a refresh of every card showing it."""
        await repo.save_ticket(conn, t, next_due_at(t, self.config.policy))
        await repo.add_event(conn, t.id, now, actor, kind, detail)
        for chat_id, message_id in await repo.list_card_messages(conn, t.id):
            await repo.add_outbox(conn, chat_id, "refresh", {"message_id": message_id}, now)

    async def _say(
        self,
        conn: Connection,
        chat_id: int,
        key: str,
        now: datetime,
        args: dict[str, Any],
        reply_to: int | None = None,
        *,
        track: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {"key": key, "args": args}
        if reply_to is not None:
            payload["reply_to"] = reply_to
        if track is not None:
            payload["track"] = track
        await repo.add_outbox(conn, chat_id, "say", payload, now)

    async def say(
        self,
        chat_id: int,
        key: str,
        args: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> None:
        """Queue a rendered reply (usage hints, refusals, lists) through the outbox."""
        async with self.db.transaction() as conn:
            await self._say(conn, chat_id, key, self.clock.now(), args or {}, reply_to)
        self._on_outbox()

    async def _notify_supervisors(
        self,
        conn: Connection,
        key: str,
        ids: list[int],
        now: datetime,
        args: dict[str, Any],
    ) -> None:
        supervisors = [p.telegram_id for p in self.roster.supervisors]
        body = {"tickets": ids, "people": supervisors, **args}
        target = self.config.supervisor_chat_id or self.config.chat_id
        await self._say(conn, target, key, now, body)
        dm_open = await repo.list_dm_open(conn)
        for person_id in supervisors:
            if person_id in dm_open:
                await self._say(conn, person_id, key, now, body)

    async def _page_on_call(
        self,
        conn: Connection,
        ticket_ids: list[int],
        now: datetime,
        overrides: list[Override],
    ) -> None:
        """New tickets: the card mentions the on-call person; DM them; nobody -> supervisors."""
        duty = on_call_at(self.roster, overrides, now)
        if duty is None:
            for tid in ticket_ids:
                await repo.add_event(
                    conn, tid, now, None, "escalated", "nobody on call: supervisors"
                )
            await self._notify_supervisors(conn, "no_oncall", ticket_ids, now, {})
            return
        person = duty.person
        dm_open, in_chat = await repo.find_reach(conn, person.telegram_id)  # one row
        if dm_open:
            await self._say(conn, person.telegram_id, "dm_new", now, {"tickets": ticket_ids})
        elif in_chat is False:  # left the chat: the card's mention does not reach them
            for tid in ticket_ids:
                await repo.add_event(
                    conn, tid, now, None, "escalated", f"{person.name} not reachable: supervisors"
                )
            await self._notify_supervisors(
                conn, "oncall_unreachable", ticket_ids, now, {"name": person.name}
            )
