"""Moderation: acknowledge, close, reject, note, clarify, reopen, assign; on-call overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain.events import (
    Acknowledged,
    Assigned,
    Categorized,
    ClarificationAsked,
    Clarified,
    Note,
    Rejected,
    Removed,
    Reopened,
    new_event,
)
from bot.domain.roster import Override, Role
from bot.domain.roster import shift_at as roster_shift_at
from bot.domain.tickets import Outcome, Status, Ticket
from bot.notices import (
    Answer,
    AssignedPing,
    Card,
    ClarifiedNotice,
    ClarifyQuestion,
    ClosedNotice,
    DmAssigned,
    Feedback,
)
from bot.services.base import ServicesBase
from bot.services.records import MAX_OVERRIDE
from storage import repository as repo
from storage.db import Connection


class ModerationMixin(ServicesBase):
    """What moderators do to tickets."""

    async def acknowledge(self, actor: int, ticket_ids: Sequence[int]) -> list[Feedback]:
        """Acknowledge (and take) tickets."""
        return await self._each(actor, ticket_ids, Role.MODERATOR, self._ack_one)

    async def _ack_one(self, conn: Connection, actor: int, t: Ticket, now: datetime) -> Feedback:
        if t.is_closed:
            return Feedback(Answer.ALREADY_CLOSED, t.id)
        if t.status is Status.ACKNOWLEDGED and t.assignee_id == actor:
            return Feedback(Answer.ALREADY_ACKED, t.id)
        new = dataclasses.replace(
            t,
            status=Status.ACKNOWLEDGED if t.status is Status.OPEN else t.status,
            acknowledged_at=t.acknowledged_at or now,
            assignee_id=actor,
        )
        await self._save(conn, new, actor, Acknowledged(), now)
        return Feedback(Answer.ACKED, t.id, changed=True)

    async def close(
        self, actor: int, ticket_ids: Sequence[int], outcome: Outcome, note: str = ""
    ) -> list[Feedback]:
        """Close tickets as actioned; `banned` also closes the channel's other open tickets."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            fb = await self._close_one(conn, a, t, now, Status.REMOVED, outcome, note)
            if outcome is Outcome.BANNED and t.channel and fb.changed:
                for other in await repo.list_open_in_channel(conn, t.channel):
                    await self._close_one(
                        conn, a, other, now, Status.REMOVED, outcome, "", banned_with=t.id
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
        *,
        banned_with: int | None = None,
    ) -> Feedback:
        if t.is_closed:
            return Feedback(Answer.ALREADY_CLOSED, t.id)
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
        fact = (
            Rejected(reason=note)
            if status is Status.REJECTED
            else Removed(outcome=outcome.value, note=note, banned_with=banned_with)
        )
        await self._save(conn, new, actor, fact, now)
        if banned_with is not None:
            note = f"channel banned (#{banned_with})"
        notice = ClosedNotice(
            tickets=(t.id,),
            status=status.value,
            outcome=outcome.value,
            note=note,
            reply_to=t.report_message_id,
        )
        await self._say(conn, t.chat_id, notice, now)
        return Feedback(Answer.CLOSED, t.id, changed=True, shown_in=t.chat_id)

    async def note(self, actor: int, ticket_id: int, text: str) -> list[Feedback]:
        """Add a note; a note by the reporter also answers a pending clarification."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.status is Status.CLARIFICATION and a == t.reporter_id:
                return await self._answer_clarification(conn, a, t, now, text)
            await repo.add_events(conn, [new_event(t.id, now, a, Note(text=text))])
            return Feedback(Answer.NOTED, t.id, changed=True)

        return await self._each(actor, [ticket_id], Role.REPORTER, one)

    async def clarify(self, actor: int, ticket_id: int, question: str) -> list[Feedback]:
        """Ask the reporter; the clocks pause until they answer."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback(Answer.ALREADY_CLOSED, t.id)
            new = dataclasses.replace(
                t,
                status=Status.CLARIFICATION,
                paused_at=t.paused_at or now,
                assignee_id=t.assignee_id or a,
            )
            await self._save(conn, new, a, ClarificationAsked(question=question), now)
            ask = ClarifyQuestion(
                tickets=(t.id,),
                question=question,
                reporter=t.reporter_id,
                reply_to=t.report_message_id,
            )
            await self._say(conn, t.chat_id, ask, now)
            return Feedback(Answer.CLARIFY_SENT, t.id, changed=True, shown_in=t.chat_id)

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
            if actor != t.reporter_id and not self.role_of(actor).covers(Role.MODERATOR):
                await repo.add_events(conn, [new_event(t.id, now, actor, Note(text=text))])
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
        fact = Clarified(answer=text, paused_seconds=int(paused.total_seconds()))
        await self._save(conn, new, actor, fact, now)
        mention = (new.assignee_id,) if new.assignee_id else ()
        resumed = ClarifiedNotice(
            tickets=(t.id,), paused_seconds=int(paused.total_seconds()), people=mention
        )
        await self._say(conn, t.chat_id, resumed, now)
        return Feedback(Answer.CLARIFIED_OK, t.id, changed=True)

    async def reopen(self, actor: int, ticket_id: int, reason: str = "") -> list[Feedback]:
        """Content is back: reopen a closed ticket with fresh deadlines."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if not self.role_of(a).covers(Role.MODERATOR) and a != t.reporter_id:
                return Feedback(Answer.NOT_YOURS, t.id)
            if not t.is_closed:
                return Feedback(Answer.NOT_CLOSED, t.id)
            if t.link_key and await repo.find_open_by_key(conn, t.link_key):
                return Feedback(Answer.OPEN_ELSEWHERE, t.id)
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
            await self._save(conn, new, a, Reopened(reason=reason), now)
            await self._say(conn, t.chat_id, Card(tickets=(t.id,)), now)
            await self._page_on_call(conn, [t.id], now, await self.overrides(conn, now))
            return Feedback(Answer.REOPENED_OK, t.id, changed=True, shown_in=t.chat_id)

        return await self._each(actor, [ticket_id], Role.REPORTER, one)

    async def assign(self, actor: int, ticket_id: int, username: str) -> list[Feedback]:
        """Hand a ticket to another moderator."""
        person = self.roster.find_by_username(username)
        if person is None or not person.is_moderator:
            return [Feedback(Answer.UNKNOWN_MODERATOR, name=username.lstrip("@"))]

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback(Answer.ALREADY_CLOSED, t.id)
            new = dataclasses.replace(t, assignee_id=person.telegram_id)
            to = f"@{person.username or person.name}"
            await self._save(conn, new, a, Assigned(to=to, to_id=person.telegram_id), now)
            ping = AssignedPing(tickets=(t.id,), people=(person.telegram_id,))
            await self._say(conn, t.chat_id, ping, now)
            if person.telegram_id in await repo.list_dm_open(conn):
                await self._say(conn, person.telegram_id, DmAssigned(tickets=(t.id,)), now)
            return Feedback(
                Answer.ASSIGNED_OK, t.id, name=person.name, changed=True, shown_in=t.chat_id
            )

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def set_category(self, actor: int, ticket_id: int, word: str) -> list[Feedback]:
        """Put a ticket in the category a key or tag names; its deadlines follow from the new
        windows and the clock start (one already past escalates at the timer's next look)."""
        policy = self.desk.policy
        category = policy.categories.find(word)
        if category is None:
            return [Feedback(Answer.UNKNOWN_CATEGORY, name=word)]
        name = category.name(self.desk.language)

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback(Answer.ALREADY_CLOSED, t.id)
            if t.category == category.key:
                return Feedback(Answer.CATEGORY_SET, t.id, name=name)
            new = dataclasses.replace(t, category=category.key)
            fact = Categorized(
                previous=t.category,
                category=category.key,
                agreed_seconds=int(policy.agreed(new).total_seconds()),
                legal_seconds=int(policy.legal(new).total_seconds()),
            )
            await self._save(conn, new, a, fact, now)
            return Feedback(Answer.CATEGORY_SET, t.id, name=name, changed=True, shown_in=t.chat_id)

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def set_on_call(self, actor: int, username: str, duration: timedelta | None) -> Feedback:
        """Override the rotation: `username` is on call from now (default: to the shift's end).

        Raises ValueError for a duration beyond MAX_OVERRIDE (a usage error, not a crash).
        """
        if not self.role_of(actor).covers(Role.MODERATOR):
            return Feedback(Answer.REFUSED)
        if duration is not None and duration > MAX_OVERRIDE:
            raise ValueError(f"override longer than {MAX_OVERRIDE.days} days")
        person = self.roster.find_by_username(username)
        if person is None or not person.is_moderator:
            return Feedback(Answer.UNKNOWN_MODERATOR, name=username.lstrip("@"))
        now = self.clock.now()
        if duration is None:
            shift = roster_shift_at(self.roster, now)
            end = shift.end if shift else now + timedelta(hours=8)
        else:
            end = now + duration
        async with self.db.transaction() as conn:
            await repo.add_override(conn, Override(person.telegram_id, now, end), actor, now)
        self._changed()
        return Feedback(Answer.ONCALL_SET, changed=True)
