"""The timer's work: next wake-up, shift handoffs, the daily digest, evidence retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.domain.roster import next_shift_change as roster_next_shift_change
from bot.domain.roster import on_call_at
from bot.domain.roster import shift_at as roster_shift_at
from bot.domain.tickets import effective_deadline
from bot.services.base import ServicesBase
from storage import repository as repo

log = logging.getLogger(__package__)  # one logger name for all of bot.services


class ScheduleMixin(ServicesBase):
    """Time-driven use cases."""

    async def next_wakeup(self) -> datetime | None:
        """The earliest instant at which the timer has something to do."""
        async with self.db.read() as conn:
            due = await repo.find_next_due_at(conn)
        candidates = [d for d in (due, self.next_shift_change(), self.next_digest()) if d]
        return min(candidates) if candidates else None

    # ---- shifts and digest ----------------------------------------------------------------

    def next_shift_change(self) -> datetime | None:
        """The next shift boundary after now."""
        return roster_next_shift_change(self.roster, self.clock.now())

    async def handoff_if_due(self) -> bool:
        """At a shift change, post who hands over to whom and the most pressing tickets."""
        now = self.clock.now()
        shift = roster_shift_at(self.roster, now)
        if shift is None or shift.index == self._shift_index:
            return False
        self._shift_index = shift.index
        async with self.db.transaction() as conn:
            last = await repo.find_meta(conn, "last_shift_index")
            await repo.set_meta(conn, "last_shift_index", str(shift.index))
            if last is None or int(last) >= shift.index:
                return False
            overrides = await self.overrides(conn, now)
            before = on_call_at(self.roster, overrides, shift.start - timedelta(microseconds=1))
            after = on_call_at(self.roster, overrides, now)
            tickets = await repo.list_open_tickets(conn)
            tickets.sort(key=lambda t: effective_deadline(t, self.config.policy, now))
            await self._say(
                conn,
                self.config.chat_id,
                "handoff",
                now,
                {
                    "from": before.person.telegram_id if before else None,
                    "to": after.person.telegram_id if after else None,
                    "until": shift.end.isoformat(),
                    "tickets": [t.id for t in tickets[:10]],
                    "open": len(tickets),
                },
            )
        self._on_outbox()
        return True

    def next_digest(self) -> datetime | None:
        """The next daily digest instant."""
        at = self.config.digest_at
        if at is None:
            return None
        local = self.clock.now().astimezone(self.config.zone)
        today = datetime.combine(local.date(), at, tzinfo=self.config.zone)
        return today if today > local else today + timedelta(days=1)

    async def digest_if_due(self) -> bool:
        """Once a day at the configured hour: open, overdue, closed in the last day."""
        at = self.config.digest_at
        if at is None:
            return False
        now = self.clock.now()
        local = now.astimezone(self.config.zone)
        if local.time() < at:
            return False
        day = local.date().isoformat()
        if day == self._digest_day:
            return False
        self._digest_day = day
        started = self.started_at.astimezone(self.config.zone)
        async with self.db.transaction() as conn:
            last = await repo.find_meta(conn, "last_digest_day")
            if last == day:
                return False
            await repo.set_meta(conn, "last_digest_day", day)
            if last is None and started.date() == local.date() and started.time() > at:
                return False  # first start, after today's digest hour: the first is tomorrow
            await self._say(conn, self.config.chat_id, "digest", now, {"day": day})
        self._on_outbox()
        return True

    # ---- retention ------------------------------------------------------------------------

    async def purge_evidence(self) -> int:
        """Drop evidence of tickets closed longer ago than the retention period."""
        now = self.clock.now()
        cutoff = now - self.config.evidence_retention
        purged = 0
        async with self.db.transaction() as conn:
            for tid in await repo.list_purgeable_evidence(conn, cutoff):
                n = await repo.delete_evidence(conn, tid)
                await repo.add_event(conn, tid, now, None, "evidence_purged", f"{n} item(s)")
                purged += 1
        if purged:
            log.info("evidence purged for %d ticket(s) closed before %s", purged, cutoff.date())
        return purged
