"""Escalation: the steps that fire as a ticket's deadlines pass."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from bot.domain.roster import backup_at, on_call_at
from bot.domain.tickets import StepKind, due_steps, next_due_at
from bot.services.base import ServicesBase
from storage import repository as repo
from storage.db import Connection


class EscalationMixin(ServicesBase):
    """Reminders and overdue alerts."""

    async def next_wakeup(self) -> datetime | None:
        """The earliest instant at which an escalation step falls due."""
        async with self.db.read() as conn:
            return await repo.find_next_due_at(conn)

    async def escalate_due(self) -> int:
        """Fire every escalation step due now, exactly once; returns how many fired."""
        now = self.clock.now()
        policy = self.config.policy
        reminders: list[int] = []
        overdue: list[int] = []
        fired = 0
        async with self.db.read() as conn:
            soonest = await repo.find_next_due_at(conn)
        if soonest is None or soonest > now:
            return 0  # the common case: nothing due, so no write transaction at all
        async with self.db.transaction() as conn:
            for t in await repo.list_due_tickets(conn, now):
                steps = due_steps(t, policy, now)
                if not steps:
                    await repo.save_ticket(conn, t, next_due_at(t, policy))
                    continue
                for step in steps:
                    detail = f"step {step.number}: {step.kind.value}"
                    if step.kind is StepKind.REPEAT:
                        detail += f", {int(step.overdue_by.total_seconds())}s past the deadline"
                    await repo.add_event(conn, t.id, now, None, "escalated", detail)
                fired += len(steps)
                last = steps[-1]
                new = dataclasses.replace(t, esc_step=last.number, last_escalated_at=now)
                await repo.save_ticket(conn, new, next_due_at(new, policy))
                (reminders if last.kind is StepKind.ACK_REMINDER else overdue).append(t.id)
                if last.kind is StepKind.OVERDUE:
                    for chat_id, message_id in await repo.list_card_messages(conn, t.id):
                        await repo.add_outbox(
                            conn, chat_id, "refresh", {"message_id": message_id}, now
                        )
            if reminders:
                await self._remind(conn, reminders, now)
            if overdue:
                await self._notify_supervisors(conn, "overdue", overdue, now, {})
        if fired:
            self._on_outbox()
        return fired

    async def _remind(self, conn: Connection, ids: list[int], now: datetime) -> None:
        overrides = await self.overrides(conn, now)
        duty = on_call_at(self.roster, overrides, now)
        backup = backup_at(self.roster, overrides, now)
        people = [p.telegram_id for p in (duty.person if duty else None, backup) if p]
        if not people:
            await self._notify_supervisors(conn, "no_oncall", ids, now, {})
            return
        await self._say(
            conn, self.config.chat_id, "ack_reminder", now, {"tickets": ids, "people": people}
        )
        dm_open = await repo.list_dm_open(conn)
        for person_id in people:
            if person_id in dm_open:
                await self._say(conn, person_id, "dm_reminder", now, {"tickets": ids})
