"""Intake: a message's links (or its link-less forward) become tickets, exactly once."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from bot.domain.links import Link
from bot.domain.tickets import Ticket, next_due_at
from bot.services.base import ServicesBase
from bot.services.records import Intake, IntakeResult
from storage import repository as repo
from storage.db import Connection


class IntakeMixin(ServicesBase):
    """Reports."""

    async def report(self, intake: Intake) -> IntakeResult:
        """Turn a message's links (or its link-less forward) into tickets, exactly once."""
        now = self.clock.now()
        if not intake.links and not intake.forwarded_without_link:
            if not intake.foreign_url:
                return IntakeResult()
            async with self.db.transaction() as conn:
                await self._say(
                    conn, intake.chat_id, "hint_no_telegram_link", now, {}, intake.message_id
                )
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
                await repo.add_outbox(
                    conn,
                    intake.chat_id,
                    "card",
                    {"new": new, "dup": dups, "reply_to": intake.message_id},
                    now,
                )
                await self._page_on_call(conn, new, now, overrides)
            else:
                await self._say(
                    conn, intake.chat_id, "duplicate", now, {"tickets": dups}, intake.message_id
                )
        self._changed()
        return IntakeResult(tuple(new), tuple(dups))

    async def _intake_one(
        self, conn: Connection, intake: Intake, link: Link | None, now: datetime
    ) -> tuple[int, bool]:
        if link is not None:
            existing = await repo.find_open_by_key(conn, link.key)
            if existing is not None:
                t = dataclasses.replace(existing, report_count=existing.report_count + 1)
                await repo.save_ticket(conn, t, next_due_at(t, self.config.policy))
                await repo.add_report(
                    conn, t.id, intake.chat_id, intake.message_id, intake.reporter_id, now
                )
                await repo.add_event(
                    conn, t.id, now, intake.reporter_id, "duplicate", f"report {t.report_count}"
                )
                await self._add_evidence(conn, t.id, intake, now)
                if intake.urgent and not t.urgent:
                    await self._make_urgent(conn, t, intake.reporter_id, now)
                for chat_id, message_id in await repo.list_card_messages(conn, t.id):
                    await repo.add_outbox(
                        conn, chat_id, "refresh", {"message_id": message_id}, now
                    )
                return t.id, False
            previous = await repo.find_last_closed_by_key(conn, link.key)
        else:
            previous = None
        policy = self.config.policy
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
            reopened_from=previous.id if previous else None,
            next_due_at=None,
        )
        await repo.add_report(
            conn, ticket_id, intake.chat_id, intake.message_id, intake.reporter_id, now
        )
        detail = link.canonical if link else f"forwarded message {intake.message_id}"
        if intake.urgent:
            detail += " (urgent)"
        await repo.add_event(conn, ticket_id, now, intake.reporter_id, "created", detail)
        if previous is not None:
            await repo.add_event(
                conn,
                ticket_id,
                now,
                intake.reporter_id,
                "reopened",
                f"content back: #{previous.id}",
            )
        await self._add_evidence(conn, ticket_id, intake, now)
        # the real next step comes from the domain, not from the guess above
        t = await repo.get_ticket(conn, ticket_id)
        await repo.save_ticket(conn, t, next_due_at(t, policy))
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
        await repo.save_ticket(conn, t, next_due_at(t, self.config.policy))
        await repo.add_event(conn, t.id, now, actor, "urgent", "marked urgent by a later report")
