"""Intake: a message's links (or its link-less forward) become tickets, exactly once."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.domain.categories import category_of_tags
from bot.domain.events import (
    Created,
    Duplicate,
    MadeUrgent,
    Reopened,
    ReportEdited,
    new_event,
)
from bot.domain.links import Link
from bot.domain.proof import evidence_hash
from bot.domain.tickets import Ticket, new_ticket, next_due_at
from bot.notices import Card, DuplicateReply, LinkHint
from bot.services.base import ServicesBase
from bot.services.records import Intake, IntakeResult
from storage import outbox
from storage import repository as repo
from storage.db import Connection

# Telegram delivers an album's messages as separate updates within a fraction of a second
ALBUM_WAIT = timedelta(seconds=1.5)


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
                hint = LinkHint(reply_to=intake.message_id, thread=intake.thread)
                await self._say(conn, intake.chat_id, hint, now)
            self._changed()
            return IntakeResult(hinted=True)

        async with self.db.transaction() as conn:
            targets: list[Link | None] = list(intake.links) or [None]
            result = await self._take_in(conn, intake, targets, now)
        self._changed()
        return result

    async def report_edited(self, intake: Intake) -> IntakeResult:
        """A report was edited: a link it gained becomes a ticket (the reply goes to the
        edited message); a link it lost stays a ticket; every ticket of the report notes
        the edit in its history."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            ids = await repo.list_tickets_of_report(conn, intake.chat_id, intake.message_id)
            before = await repo.list_tickets_by_ids(conn, ids)
            keys_now = {link.key for link in intake.links}
            await repo.add_events(
                conn,
                [
                    new_event(
                        t.id,
                        now,
                        intake.reporter_id,
                        ReportEdited(link_removed=t.link_key not in keys_now),
                    )
                    for t in before
                    if t.link_key is not None
                ],
            )
            known = {t.link_key for t in before}
            gained: list[Link | None] = [k for k in intake.links if k.key not in known]
            result = await self._take_in(conn, intake, gained, now) if gained else None
        self._changed()
        return result or IntakeResult()

    async def _take_in(
        self, conn: Connection, intake: Intake, targets: list[Link | None], now: datetime
    ) -> IntakeResult:
        """Each target a ticket (new, or counted again), then one reply: the card of the new
        ones (naming the duplicates), or the duplicate reply."""
        new: list[int] = []
        dups: list[int] = []
        overrides = await self.overrides(conn, now)
        for link in targets:
            ticket_id, created = await self._intake_one(conn, intake, link, now)
            (new if created else dups).append(ticket_id)
        if intake.album is not None:
            await self._album_card(conn, intake, intake.album, new, dups, now)
            if new:
                await self._page_on_call(conn, new, now, overrides)
        elif new:
            card = Card(
                tickets=tuple(new),
                dup=tuple(dups),
                reply_to=intake.message_id,
                thread=intake.thread,
            )
            await self._say(conn, intake.chat_id, card, now)
            await self._page_on_call(conn, new, now, overrides)
        else:
            reply = DuplicateReply(
                tickets=tuple(dups), reply_to=intake.message_id, thread=intake.thread
            )
            await self._say(conn, intake.chat_id, reply, now)
        return IntakeResult(tuple(new), tuple(dups))

    async def _album_card(
        self,
        conn: Connection,
        intake: Intake,
        album: str,
        new: list[int],
        dups: list[int],
        now: datetime,
    ) -> None:
        """Posts forwarded as one album get one reply: the first member queues a card held
        back a moment, the others join it while it waits (durably: a restart loses none)."""
        pending = await outbox.find_pending_album_card(conn, intake.chat_id, album)
        if pending is not None:
            row_id, card = pending
            joined = dataclasses.replace(
                card, tickets=card.tickets + tuple(new), dup=card.dup + tuple(dups)
            )
            await outbox.replace_pending(conn, row_id, joined)
            return
        card = Card(
            tickets=tuple(new),
            dup=tuple(dups),
            reply_to=intake.message_id,
            album=album,
            thread=intake.thread,
        )
        await outbox.add_outbox(conn, intake.chat_id, card, now, now + ALBUM_WAIT)

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
        named = category_of_tags(intake.tags, policy.categories)
        fresh = new_ticket(
            link=link.canonical if link else None,
            link_key=link.key if link else None,
            channel=link.channel if link else None,
            urgent=intake.urgent,
            reporter_id=intake.reporter_id,
            chat_id=intake.chat_id,
            report_message_id=intake.message_id,
            now=now,
            reopened_from=previous.id if previous else None,
            category=named.key if named else policy.categories.default,
        )
        # decided here, written once: no read back to compute the next step
        ticket_id = await repo.add_ticket(conn, fresh, next_due_at(fresh, policy))
        await repo.add_report(
            conn, ticket_id, intake.chat_id, intake.message_id, intake.reporter_id, now
        )
        created = Created(
            link=link.canonical if link else None,
            forwarded_message_id=None if link else intake.message_id,
            urgent=intake.urgent,
            evidence=_evidence_hash(intake),
            category=fresh.category,
            agreed_seconds=int(policy.agreed(fresh).total_seconds()),
            legal_seconds=int(policy.legal(fresh).total_seconds()),
            order=intake.order,
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
