"""Intake: a message's links (or its link-less forward) become tickets, exactly once."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.domain.events import Created, Duplicate, MadeUrgent, Reopened, new_event
from bot.domain.links import Link
from bot.domain.proof import evidence_hash
from bot.domain.tickets import Status, Ticket, next_due_at
from bot.notices import Card, DuplicateReply, LinkHint
from bot.services.base import ServicesBase
from bot.services.records import Intake, IntakeResult
from storage import repository as repo
from storage.db import Connection


def _evidence_hash(intake: Intake) -> str | None:
    """The hash of the evidence `_add_evidence` keeps (None: it keeps none)."""
    ev = intake.evidence
    if not (ev.text or ev.media or ev.origin):
        return None
    return evidence_hash(
        text=ev.text,
        media=ev.media,
        origin=ev.origin,
        origin_chat_id=ev.origin_chat_id,
        origin_message_id=ev.origin_message_id,
        origin_date=ev.origin_date.isoformat() if ev.origin_date else None,
    )


class IntakeMixin(ServicesBase):
    """Reports."""

    async def report(self, intake: Intake) -> IntakeResult:
        """Turn a message's links (or its link-less forward) into tickets, exactly once."""
        now = self.clock.now()
        if not intake.links and not intake.forwarded_without_link:
            if not intake.foreign_url:
                return IntakeResult()
            async with self.db.transaction() as conn:
                await self._say(conn, intake.chat_id, LinkHint(reply_to=intake.message_id), now)
            self._changed()
            return IntakeResult(hinted=True)

        new: list[int] = []
        dups: list[int] = []
        async with self.db.transaction() as conn:
            overrides = await self.overrides(conn, now)
            targets: list[Link | None] = list(intake.links) or [None]
            for link in targets:
                ticket_id, created = await self._intake_one(conn, intake, link, now)
                (new if created else dups).append(ticket_id)
            if new:
                card = Card(tickets=tuple(new), dup=tuple(dups), reply_to=intake.message_id)
                await self._say(conn, intake.chat_id, card, now)
                await self._page_on_call(conn, new, now, overrides)
            else:
                reply = DuplicateReply(tickets=tuple(dups), reply_to=intake.message_id)
                await self._say(conn, intake.chat_id, reply, now)
        self._changed()
        return IntakeResult(tuple(new), tuple(dups))

    async def _intake_one(
        self, conn: Connection, intake: Intake, link: Link | None, now: datetime
    ) -> tuple[int, bool]:
        previous: Ticket | None = None
        if link is not None:
            existing = await repo.find_latest_by_key(conn, link.key)
            if existing is not None and existing.is_closed:
                previous, existing = existing, None
            if existing is not None:
                t = dataclasses.replace(existing, report_count=existing.report_count + 1)
                await repo.save_ticket(conn, t, next_due_at(t, self.desk.policy))
                await repo.add_report(
                    conn, t.id, intake.chat_id, intake.message_id, intake.reporter_id, now
                )
                fact = Duplicate(
                    report=t.report_count,
                    message_id=intake.message_id,
                    evidence=_evidence_hash(intake),
                )
                await repo.add_events(conn, [new_event(t.id, now, intake.reporter_id, fact)])
                await self._add_evidence(conn, t.id, intake, now)
                if intake.urgent and not t.urgent:
                    await self._make_urgent(conn, t, intake.reporter_id, now)
                await self._refresh_cards(conn, t.id, now)
                return t.id, False
        policy = self.desk.policy
        fresh = Ticket(
            id=0,
            link=link.canonical if link else None,
            link_key=link.key if link else None,
            channel=link.channel if link else None,
            status=Status.OPEN,
            urgent=intake.urgent,
            reporter_id=intake.reporter_id,
            chat_id=intake.chat_id,
            report_message_id=intake.message_id,
            assignee_id=None,
            report_count=1,
            created_at=now,
            clock_start_at=now,
            acknowledged_at=None,
            closed_at=None,
            outcome=None,
            reopened_from=previous.id if previous else None,
            paused_at=None,
            paused_total=timedelta(0),
            esc_step=0,
            last_escalated_at=None,
            card_message_id=None,
        )
        ticket_id = await repo.add_ticket(
            conn,
            link=link.canonical if link else None,
            link_key=link.key if link else None,
            channel=link.channel if link else None,
            urgent=intake.urgent,
            reporter_id=intake.reporter_id,
            chat_id=intake.chat_id,
            report_message_id=intake.message_id,
            now=now,
            reopened_from=fresh.reopened_from,
            next_due_at=next_due_at(fresh, policy),  # decided here: no read back
        )
        await repo.add_report(
            conn, ticket_id, intake.chat_id, intake.message_id, intake.reporter_id, now
        )
        created = Created(
            link=link.canonical if link else None,
            forwarded_message_id=None if link else intake.message_id,
            urgent=intake.urgent,
            evidence=_evidence_hash(intake),
        )
        events = [new_event(ticket_id, now, intake.reporter_id, created)]
        if previous is not None:
            back = Reopened(previous=previous.id)
            events.append(new_event(ticket_id, now, intake.reporter_id, back))
        await repo.add_events(conn, events)
        await self._add_evidence(conn, ticket_id, intake, now)
        return ticket_id, True

    async def _add_evidence(
        self, conn: Connection, ticket_id: int, intake: Intake, now: datetime
    ) -> None:
        ev = intake.evidence
        if not (ev.text or ev.media or ev.origin):
            return
        await repo.add_evidence(
            conn,
            ticket_id,
            now,
            text=ev.text,
            media=ev.media,
            origin=ev.origin,
            origin_chat_id=ev.origin_chat_id,
            origin_message_id=ev.origin_message_id,
            origin_date=ev.origin_date,
        )

    async def _make_urgent(self, conn: Connection, t: Ticket, actor: int, now: datetime) -> None:
        t = dataclasses.replace(t, urgent=True)
        await repo.save_ticket(conn, t, next_due_at(t, self.desk.policy))
        await repo.add_events(conn, [new_event(t.id, now, actor, MadeUrgent())])
