"""The calendar use cases: shift hand-offs, the daily digest, evidence retention.

The jobs in bot/jobs.py call them at their slots, and once at start to catch up. Each
keeps a durable marker in `meta` (`job:<name>` = the ISO instant of the last slot done),
written in the transaction that queues its notice: a restart neither misses nor doubles
a slot. The decision is `slot_due` (bot.domain.slots) over the latest slot at `now`; slots
missed while the bot was down give one run, for the latest.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from bot.domain.events import EvidencePurged, new_event
from bot.domain.roster import next_shift_change as roster_next_shift_change
from bot.domain.roster import on_call_at
from bot.domain.roster import shift_at as roster_shift_at
from bot.domain.slots import (
    Due,
    daily_slot,
    digest_slot_at,
    next_digest_slot,
    next_purge_slot,
    purge_slot_at,
    slot_due,
)
from bot.domain.tickets import effective_deadline
from bot.notices import Digest, Handoff
from bot.services.base import ServicesBase
from storage import repository as repo
from storage.db import Connection

log = logging.getLogger(__package__)  # one logger name for all of bot.services

HANDOFF, DIGEST, PURGE = "job:handoff", "job:digest", "job:purge"


class ScheduleMixin(ServicesBase):
    """Time-driven use cases on the calendar."""

    # ---- shifts ---------------------------------------------------------------------------

    def next_shift_change(self, after: datetime) -> datetime | None:
        """The next shift boundary after `after` (overrides do not move boundaries)."""
        return roster_next_shift_change(self.roster, after)

    async def handoff_if_due(self, now: datetime) -> bool:
        """At a shift change, post who hands over to whom and the most pressing tickets;
        none for the shift already running at the first start."""
        shift = roster_shift_at(self.roster, now)
        if shift is None:
            return False
        async with self.db.transaction() as conn:
            due = slot_due(shift.start, await self._slot_done(conn, HANDOFF), self.started_at)
            if due is Due.NOTHING:
                return False
            await repo.set_meta(conn, HANDOFF, shift.start.isoformat())
            if due is Due.BASELINE:
                return False
            overrides = await self.overrides(conn, now)
            before = on_call_at(self.roster, overrides, shift.start - timedelta(microseconds=1))
            after = on_call_at(self.roster, overrides, now)
            tickets = await repo.list_open_tickets(conn)
            tickets.sort(key=lambda t: effective_deadline(t, self.desk.policy, now))
            handoff = Handoff(
                from_id=before.person.telegram_id if before else None,
                to_id=after.person.telegram_id if after else None,
                until=shift.end.isoformat(),
                tickets=tuple(t.id for t in tickets[:10]),
                open=len(tickets),
            )
            await self._say(conn, self.desk.chat_id, handoff, now)
        self._on_outbox()
        return True

    # ---- digest ---------------------------------------------------------------------------

    def next_digest(self, after: datetime) -> datetime | None:
        """The next daily digest instant after `after` (None: the digest is off)."""
        at = self.desk.digest_at
        return None if at is None else next_digest_slot(at, self.desk.zone, after)

    async def digest_if_due(self, now: datetime) -> bool:
        """Once a day at the configured hour: open, overdue, closed in the last day; the
        first start after today's hour leaves the first digest for tomorrow."""
        at = self.desk.digest_at
        if at is None:
            return False
        slot = digest_slot_at(at, self.desk.zone, now)
        async with self.db.transaction() as conn:
            due = slot_due(slot, await self._slot_done(conn, DIGEST), self.started_at)
            if due is Due.NOTHING:
                return False
            await repo.set_meta(conn, DIGEST, slot.isoformat())
            if due is Due.BASELINE:
                return False
            day = slot.astimezone(self.desk.zone).date().isoformat()
            await self._say(conn, self.desk.chat_id, Digest(day=day), now)
        self._on_outbox()
        return True

    # ---- retention ------------------------------------------------------------------------

    def next_purge(self, after: datetime) -> datetime:
        """The next hourly evidence purge after `after`."""
        return next_purge_slot(after)

    async def purge_evidence(self, now: datetime) -> int:
        """Once an hour: drop evidence of tickets closed longer ago than the retention
        period; returns for how many tickets."""
        slot = purge_slot_at(now)
        cutoff = now - self.desk.evidence_retention
        purged = 0
        async with self.db.transaction() as conn:
            if slot_due(slot, await self._slot_done(conn, PURGE), None) is Due.NOTHING:
                return 0
            await repo.set_meta(conn, PURGE, slot.isoformat())
            for tid in await repo.list_purgeable_evidence(conn, cutoff):
                n = await repo.delete_evidence(conn, tid)
                fact = EvidencePurged(items=n)
                await repo.add_events(conn, [new_event(tid, now, None, fact)])
                purged += 1
        if purged:
            log.info("evidence purged for %d ticket(s) closed before %s", purged, cutoff.date())
        return purged

    # ---- markers --------------------------------------------------------------------------

    async def _slot_done(self, conn: Connection, key: str) -> datetime | None:
        """The last slot done for a job; a database from before the job markers has the
        older markers (the shift index, the digest's local day), read as their slot."""
        stored = await repo.find_meta(conn, key)
        if stored is not None:
            return datetime.fromisoformat(stored)
        rotation, at = self.roster.rotation, self.desk.digest_at
        if key == HANDOFF and rotation is not None:
            index = await repo.find_meta(conn, "last_shift_index")
            if index is not None:
                return rotation.start.astimezone(UTC) + int(index) * rotation.shift
        if key == DIGEST and at is not None:
            day = await repo.find_meta(conn, "last_digest_day")
            if day is not None:
                return daily_slot(date.fromisoformat(day), at, self.desk.zone)
        return None
