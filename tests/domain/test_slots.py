"""Calendar slots and the rule for the latest one: pure functions, walked minute by minute."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.slots import (
    Due,
    digest_slot_at,
    next_digest_slot,
    next_purge_slot,
    purge_slot_at,
    slot_due,
)

T = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("slot", "done", "first_start", "expected"),
    [
        (None, None, T, Due.NOTHING),  # no slot yet
        (T, T, T, Due.NOTHING),  # done
        (T, T + H, T, Due.NOTHING),  # a later slot is done (the rotation changed)
        (T, T - H, T + H, Due.RUN),  # the next slot: on time or the catch-up
        (T, None, T + H, Due.BASELINE),  # first start after the slot
        (T, None, T, Due.RUN),  # the slot came at or after the first start
        (T, None, None, Due.RUN),  # a job without a first-start rule
    ],
)
def test_slot_due(
    slot: datetime | None, done: datetime | None, first_start: datetime | None, expected: Due
) -> None:
    assert slot_due(slot, done, first_start) is expected


def test_digest_slots_in_jakarta() -> None:
    zone = ZoneInfo("Asia/Jakarta")
    at = time(8, 0)  # 01:00 UTC
    assert digest_slot_at(at, zone, T) == T
    assert digest_slot_at(at, zone, T - timedelta(microseconds=1)) == T - timedelta(days=1)
    assert next_digest_slot(at, zone, T) == T + timedelta(days=1)
    assert next_digest_slot(at, zone, T - timedelta(microseconds=1)) == T
    midnight_local = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 00:30 on the 24th
    assert digest_slot_at(at, zone, midnight_local) == T
    assert next_digest_slot(at, zone, midnight_local) == T + timedelta(days=1)


@pytest.mark.parametrize("at", [time(2, 30), time(0, 0), time(23, 59), time(8, 0)])
def test_digest_slots_across_daylight_saving_changes(at: time) -> None:
    zone = ZoneInfo("Europe/Berlin")  # 02:30 does not exist on 29 March, 02:30 twice in October
    for start in (datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 10, 23, tzinfo=UTC)):
        now = start
        while now < start + timedelta(days=5):
            latest, following = digest_slot_at(at, zone, now), next_digest_slot(at, zone, now)
            assert latest <= now < following
            assert next_digest_slot(at, zone, latest) == following  # no slot between them
            assert timedelta(hours=23) <= following - latest <= timedelta(hours=25)
            now += timedelta(minutes=7)


def test_purge_slots_are_whole_utc_hours() -> None:
    jakarta = datetime(2026, 11, 23, 9, 59, 59, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert purge_slot_at(jakarta) == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert next_purge_slot(jakarta) == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert next_purge_slot(T) == T + H
