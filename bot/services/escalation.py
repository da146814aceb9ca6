"""Escalation: the steps that fire as a ticket's deadlines pass."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from bot.domain.events import Escalated, Escalation, new_event
from bot.domain.roster import backup_at, on_call_at
from bot.domain.tickets import Step, StepKind, due_steps, next_due_at
from bot.notices import AckReminder, DmReminder, NoOnCall, OverdueAlert
from bot.services.base import ServicesBase
from storage import outbox
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
        policy = self.desk.policy
        reminders: list[int] = []
        overdue: list[int] = []
        fired = 0
        async with self.db.read() as conn:
            soonest = await repo.find_next_due_at(conn)
        if soonest is None or soonest > now:
            return 0  # the common case: nothing due, so no write transaction at all
        async with self.db.transaction() as conn:
            overrides = await self.overrides(conn, now)
            duty = on_call_at(self.roster, overrides, now)
            backup = backup_at(self.roster, overrides, now)
            on_call = tuple(p.telegram_id for p in (duty.person if duty else None, backup) if p)
            supervisors = tuple(p.telegram_id for p in self.roster.supervisors)
            for t in await repo.list_due_tickets(conn, now):
                steps = due_steps(t, policy, now)
                if not steps:
                    await repo.save_ticket(conn, t, next_due_at(t, policy))
                    continue
                await repo.add_events(
                    conn,
                    [
                        new_event(t.id, now, None, _step_fact(step, on_call, supervisors))
                        for step in steps
                    ],
                )
                fired += len(steps)
                last = steps[-1]
                new = dataclasses.replace(t, esc_step=last.number, last_escalated_at=now)
                await repo.save_ticket(conn, new, next_due_at(new, policy))
                (reminders if last.kind is StepKind.ACK_REMINDER else overdue).append(t.id)
                if last.kind is StepKind.OVERDUE:
                    await self._refresh_cards(conn, t.id, now)
            if reminders:
                await self._remind(conn, reminders, now, on_call)
            if overdue:
                alert = OverdueAlert(tickets=tuple(overdue), people=supervisors)
                await self._notify_supervisors(conn, alert, now)
        if fired:
            self._on_outbox()
        return fired

    async def _remind(
        self, conn: Connection, ids: list[int], now: datetime, on_call: tuple[int, ...]
    ) -> None:
        tickets = tuple(ids)
        if not on_call:
            await self._notify_supervisors(
                conn, NoOnCall(tickets=tickets, people=self.supervisor_ids), now
            )
            return
        reminder = AckReminder(tickets=tickets, people=on_call)
        dm_open = await repo.list_dm_open(conn)
        dms = [(p, DmReminder(tickets=tickets)) for p in on_call if p in dm_open]
        await outbox.add_outbox_many(conn, [(self.desk.chat_id, reminder), *dms], now)


def _step_fact(step: Step, on_call: tuple[int, ...], supervisors: tuple[int, ...]) -> Escalated:
    """The event of one fired step: which step, how late, who is pinged."""
    if step.kind is StepKind.ACK_REMINDER:
        # nobody on call and no backup: the reminder goes to supervisors instead
        return Escalated(
            reason=Escalation.ACK_REMINDER, step=step.number, recipients=on_call or supervisors
        )
    repeat = step.kind is StepKind.REPEAT
    return Escalated(
        reason=Escalation.OVERDUE_REPEAT if repeat else Escalation.OVERDUE,
        step=step.number,
        overdue_seconds=int(step.overdue_by.total_seconds()) if repeat else None,
        recipients=supervisors,
    )
