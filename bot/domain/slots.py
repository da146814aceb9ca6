"""Calendar slots: the instants the daily digest and the evidence purge fall due, and the
rule that says whether the latest slot is still to be done.

Shift hand-offs use the rotation's boundaries (``roster.shift_at``, ``next_shift_change``).
A slot is identified by its instant (aware UTC); the scheduler arms a job at the next slot
and the use case asks these functions which slot ``now`` belongs to, so both agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

PURGE_EVERY = timedelta(hours=1)


class Due(Enum):
    """What to do about the latest slot at or before now."""

    NOTHING = "nothing"  # done already, or no slot yet
    BASELINE = "baseline"  # first start after the slot: record it as done, say nothing
    RUN = "run"  # run it (on time, or as the catch-up after a restart)


def slot_due(slot: datetime | None, done: datetime | None, first_start: datetime | None) -> Due:
    """Decide on the latest slot given the last slot done; with no slot done yet, a slot
    before ``first_start`` is only recorded (None: every slot runs)."""
    if slot is None:
        return Due.NOTHING
    if done is not None:
        return Due.RUN if slot > done else Due.NOTHING
    if first_start is not None and slot < first_start:
        return Due.BASELINE
    return Due.RUN


def daily_slot(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of ``at`` local time on ``day`` (a nonexistent time: as zoneinfo
    reads it with fold=0, i.e. the offset before the change)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def digest_slot_at(at: time, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest digest instant at or before ``now``."""
    today = now.astimezone(zone).date()
    days = (today + timedelta(days=n) for n in (1, 0, -1, -2))
    return max(s for s in (daily_slot(d, at, zone) for d in days) if s <= now)


def next_digest_slot(at: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first digest instant strictly after ``after``."""
    today = after.astimezone(zone).date()
    days = (today + timedelta(days=n) for n in (-1, 0, 1, 2))
    return min(s for s in (daily_slot(d, at, zone) for d in days) if s > after)


def purge_slot_at(now: datetime) -> datetime:
    """The latest whole UTC hour at or before ``now``."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def next_purge_slot(after: datetime) -> datetime:
    """The first whole UTC hour strictly after ``after``."""
    return purge_slot_at(after) + PURGE_EVERY
