"""Moderation: acknowledge, close, reject, note, clarify, reopen, assign; on-call overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain.roster import Override
from bot.domain.roster import shift_at as roster_shift_at
from bot.domain.tickets import Outcome, Status, Ticket
from bot.services.base import ServicesBase
from bot.services.records import MAX_OVERRIDE, RANK, Feedback, Role
from storage import repository as repo
from storage.db import Connection


class ModerationMixin(ServicesBase):
    """What moderators do to tickets."""

    async def acknowledge(self, actor: int, ticket_ids: Sequence[int]) -> list[Feedback]:
        """Acknowledge (and take) tickets."""
        return await self._each(actor, ticket_ids, Role.MODERATOR, self._ack_one)

    async def _ack_one(self, conn: Connection, actor: int, t: Ticket, now: datetime) -> Feedback:
        if t.is_closed:
            return Feedback("already_closed", {"id": t.id, "status": t.status.value})
        if t.status is Status.ACKNOWLEDGED and t.assignee_id == actor:
            return Feedback("already_acked", {"id": t.id})
        new = dataclasses.replace(
            t,
            status=Status.ACKNOWLEDGED if t.status is Status.OPEN else t.status,
            acknowledged_at=t.acknowledged_at or now,
            assignee_id=actor,
        )
        await self._save(conn, new, actor, "acknowledged", "", now)
        return Feedback("acked", {"id": t.id}, changed=True)

    async def close(
        self, actor: int, ticket_ids: Sequence[int], outcome: Outcome, note: str = ""
    ) -> list[Feedback]:
        """Close tickets as actioned; `banned` also closes the channel's other open tickets."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            fb = await self._close_one(conn, a, t, now, Status.REMOVED, outcome, note)
            if outcome is Outcome.BANNED and t.channel and fb.changed:
                for other in await repo.list_open_in_channel(conn, t.channel):
                    await self._close_one(
                        conn, a, other, now, Status.REMOVED, outcome, f"channel banned (#{t.id})"
                    )
            return fb

        return await self._each(actor, ticket_ids, Role.MODERATOR, one)

    async def reject(self, actor: int, ticket_id: int, reason: str) -> list[Feedback]:
        """Close a ticket as not actionable, with a reason."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            return await self._close_one(
                conn, a, t, now, Status.REJECTED, Outcome.REJECTED, reason
            )

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def _close_one(
        self,
        conn: Connection,
        actor: int,
        t: Ticket,
        now: datetime,
        status: Status,
        outcome: Outcome,
        note: str,
    ) -> Feedback:
        if t.is_closed:
            return Feedback("already_closed", {"id": t.id, "status": t.status.value})
        paused = now - t.paused_at if t.paused_at else timedelta(0)
        new = dataclasses.replace(
            t,
            status=status,
            outcome=outcome,
            closed_at=now,
            acknowledged_at=t.acknowledged_at or now,
            assignee_id=t.assignee_id or actor,
            paused_at=None,
            paused_total=t.paused_total + paused,
        )
        kind = "rejected" if status is Status.REJECTED else "removed"
        detail = outcome.value + (f": {note}" if note else "")
        await self._save(conn, new, actor, kind, detail, now)
        await self._say(
            conn,
            t.chat_id,
            "closed_notice",
            now,
            {"tickets": [t.id], "status": status.value, "outcome": outcome.value, "note": note},
            t.report_message_id,
        )
        return Feedback("closed", {"id": t.id, "status": status.value}, True, t.chat_id)

    async def note(self, actor: int, ticket_id: int, text: str) -> list[Feedback]:
        """Add a note; a note by the reporter also answers a pending clarification."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.status is Status.CLARIFICATION and a == t.reporter_id:
                return await self._answer_clarification(conn, a, t, now, text)
            await repo.add_event(conn, t.id, now, a, "note", text)
            return Feedback("noted", {"id": t.id}, changed=True)

        return await self._each(actor, [ticket_id], Role.REPORTER, one)

    async def clarify(self, actor: int, ticket_id: int, question: str) -> list[Feedback]:
        """Ask the reporter; the clocks pause until they answer."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback("already_closed", {"id": t.id, "status": t.status.value})
            new = dataclasses.replace(
                t,
                status=Status.CLARIFICATION,
                paused_at=t.paused_at or now,
                assignee_id=t.assignee_id or a,
            )
            await self._save(conn, new, a, "clarification", question, now)
            await self._say(
                conn,
                t.chat_id,
                "clarify_question",
                now,
                {"tickets": [t.id], "question": question, "reporter": t.reporter_id},
                t.report_message_id,
                track="clarify",
            )
            return Feedback("clarify_sent", {"id": t.id}, True, t.chat_id)

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def answer_clarification(
        self, actor: int, chat_id: int, question_message_id: int, text: str
    ) -> bool:
        """A reply to the bot's question: resumes the ticket's clocks. False if not one."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            t = await repo.find_ticket_by_clarification(conn, chat_id, question_message_id)
            if t is None:
                return False
            if actor != t.reporter_id and RANK[self.role_of(actor)] < RANK[Role.MODERATOR]:
                await repo.add_event(conn, t.id, now, actor, "note", text)
            else:
                await self._answer_clarification(conn, actor, t, now, text)
        self._changed()
        return True

    async def _answer_clarification(
        self, conn: Connection, actor: int, t: Ticket, now: datetime, text: str
    ) -> Feedback:
        paused = now - t.paused_at if t.paused_at else timedelta(0)
        status = Status.ACKNOWLEDGED if t.acknowledged_at else Status.OPEN
        new = dataclasses.replace(
            t, status=status, paused_at=None, paused_total=t.paused_total + paused
        )
        await self._save(conn, new, actor, "clarified", text, now)
        mention = [new.assignee_id] if new.assignee_id else []
        await self._say(
            conn,
            t.chat_id,
            "clarified",
            now,
            {"tickets": [t.id], "paused": paused.total_seconds(), "people": mention},
        )
        return Feedback("clarified_ok", {"id": t.id}, changed=True)

    async def reopen(self, actor: int, ticket_id: int, reason: str = "") -> list[Feedback]:
        """Content is back: reopen a closed ticket with fresh deadlines."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if RANK[self.role_of(a)] < RANK[Role.MODERATOR] and a != t.reporter_id:
                return Feedback("not_yours", {"id": t.id})
            if not t.is_closed:
                return Feedback("not_closed", {"id": t.id})
            if t.link_key and await repo.find_open_by_key(conn, t.link_key):
                return Feedback("open_elsewhere", {"id": t.id})
            new = dataclasses.replace(
                t,
                status=Status.OPEN,
                closed_at=None,
                outcome=None,
                acknowledged_at=None,
                clock_start_at=now,
                paused_at=None,
                paused_total=timedelta(0),
                esc_step=0,
                last_escalated_at=None,
            )
            await self._save(conn, new, a, "reopened", reason, now)
            await repo.add_outbox(conn, t.chat_id, "card", {"new": [t.id], "dup": []}, now)
            await self._page_on_call(conn, [t.id], now, await self.overrides(conn, now))
            return Feedback("reopened_ok", {"id": t.id}, True, t.chat_id)

        return await self._each(actor, [ticket_id], Role.REPORTER, one)

    async def assign(self, actor: int, ticket_id: int, username: str) -> list[Feedback]:
        """Hand a ticket to another moderator."""
        person = self.roster.find_by_username(username)
        if person is None or not person.is_moderator:
            return [Feedback("unknown_moderator", {"username": username.lstrip("@")})]

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback("already_closed", {"id": t.id, "status": t.status.value})
            new = dataclasses.replace(t, assignee_id=person.telegram_id)
            await self._save(conn, new, a, "assigned", f"@{person.username or person.name}", now)
            await self._say(
                conn,
                t.chat_id,
                "assigned_ping",
                now,
                {"tickets": [t.id], "people": [person.telegram_id]},
            )
            if person.telegram_id in await repo.list_dm_open(conn):
                await self._say(conn, person.telegram_id, "dm_assigned", now, {"tickets": [t.id]})
            return Feedback("assigned_ok", {"id": t.id, "name": person.name}, True, t.chat_id)

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def set_on_call(self, actor: int, username: str, duration: timedelta | None) -> Feedback:
        """Override the rotation: `username` is on call from now (default: to the shift's end).

        Raises ValueError for a duration beyond MAX_OVERRIDE (a usage error, not a crash).
        """
        if RANK[self.role_of(actor)] < RANK[Role.MODERATOR]:
            return Feedback("refused", {})
        if duration is not None and duration > MAX_OVERRIDE:
            raise ValueError(f"override longer than {MAX_OVERRIDE.days} days")
        person = self.roster.find_by_username(username)
        if person is None or not person.is_moderator:
            return Feedback("unknown_moderator", {"username": username.lstrip("@")})
        now = self.clock.now()
        if duration is None:
            shift = roster_shift_at(self.roster, now)
            end = shift.end if shift else now + timedelta(hours=8)
        else:
            end = now + duration
        async with self.db.transaction() as conn:
            await repo.add_override(conn, Override(person.telegram_id, now, end), actor, now)
        self._changed()
        return Feedback("oncall_set", {"id": person.telegram_id, "until": end.isoformat()}, True)
