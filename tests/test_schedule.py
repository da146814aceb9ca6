"""The calendar use cases and their durable markers, over a real database and a fake clock.

A "restart" is a new Services over the same database file: its started_at is the new
start, and nothing is carried over in memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.domain.links import normalise_link
from bot.domain.roster import Roster
from bot.domain.tickets import Outcome, standard_policy
from bot.notices import to_payload
from bot.services import Desk, EvidenceIn, Intake, Services
from bot.services.schedule import DIGEST, HANDOFF, PURGE
from storage import outbox
from storage import repository as repo
from storage.db import Database
from tests.e2e.harness import ANDI, BUDI, CHAT, RINA, SUP_CHAT, make_roster

JAKARTA = ZoneInfo("Asia/Jakarta")  # UTC+7: a digest at 08:00 local is 01:00 UTC
DAY = timedelta(days=1)
SLOT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # the digest of 23 November, 08:00 local
POLICY = standard_policy(
    timedelta(minutes=15), timedelta(hours=4), timedelta(hours=1), timedelta(hours=1)
)
# shifts of 8 h from 00:00 UTC: Andi 00-08, Budi 08-16, Andi 16-24, ...
ROTATION = {"start": "2026-11-23T00:00:00+00:00", "shift": "8h"}
BOUNDARY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Bot:
    """Services over one database file, started and restarted on a fake clock."""

    def __init__(self, path: Path, clock: FakeClock, roster: Roster) -> None:
        self.path, self.clock, self.roster = path, clock, roster
        self.db: Database | None = None
        self.svc: Services | None = None

    async def start(self) -> Services:
        await self.stop()
        self.db = await Database.open(self.path)
        desk = Desk(CHAT, SUP_CHAT, self.roster, POLICY, JAKARTA, "en", digest_at=time(8, 0))
        self.svc = Services(self.db, self.clock, desk)
        return self.svc

    async def stop(self) -> None:
        if self.db is not None:
            await self.db.close()
        self.db = self.svc = None

    async def said(self, key: str) -> list[dict[str, Any]]:
        assert self.db is not None
        async with self.db.read() as conn:
            items = await outbox.list_pending_outbox(conn)
        return [to_payload(i.notice) for i in items if i.notice and i.kind == key]

    async def marker(self, key: str) -> str | None:
        assert self.db is not None
        async with self.db.read() as conn:
            return await repo.find_meta(conn, key)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    b = Bot(tmp_path / "t.db", FakeClock(SLOT + timedelta(hours=1)), make_roster(**ROTATION))
    yield b
    await b.stop()


# ---- digest ---------------------------------------------------------------------------------


async def test_first_start_after_the_digest_hour_leaves_the_first_digest_for_tomorrow(
    bot: Bot,
) -> None:
    svc = await bot.start()  # 09:00 local, an hour after today's digest
    assert not await svc.digest_if_due(bot.clock.now())
    assert await bot.said("digest") == []
    assert await bot.marker(DIGEST) == SLOT.isoformat()  # recorded as done: no catch-up later
    assert svc.next_digest(bot.clock.now()) == SLOT + DAY


async def test_a_due_digest_runs_once(bot: Bot) -> None:
    svc = await bot.start()
    assert not await svc.digest_if_due(bot.clock.now())
    bot.clock.set(SLOT + DAY)
    assert await svc.digest_if_due(bot.clock.now())
    assert not await svc.digest_if_due(bot.clock.now())
    assert not await svc.digest_if_due(bot.clock.advance(timedelta(hours=3)))
    assert await bot.said("digest") == [{"day": "2026-11-24"}]
    assert await bot.marker(DIGEST) == (SLOT + DAY).isoformat()


async def test_first_start_before_the_digest_hour_posts_todays(bot: Bot) -> None:
    bot.clock.set(SLOT - timedelta(hours=2))
    svc = await bot.start()
    assert not await svc.digest_if_due(bot.clock.now())  # yesterday's: before the first start
    bot.clock.set(SLOT)
    assert await svc.digest_if_due(bot.clock.now())
    assert await bot.said("digest") == [{"day": "2026-11-23"}]


async def test_restart_after_the_digest_was_done_posts_nothing(bot: Bot) -> None:
    svc = await bot.start()
    bot.clock.set(SLOT + DAY)
    assert await svc.digest_if_due(bot.clock.now())
    bot.clock.advance(timedelta(minutes=5))
    svc = await bot.start()
    assert not await svc.digest_if_due(bot.clock.now())
    assert len(await bot.said("digest")) == 1


async def test_restart_after_missed_digests_catches_up_once_for_the_latest(bot: Bot) -> None:
    svc = await bot.start()
    assert not await svc.digest_if_due(bot.clock.now())  # the marker: today's, skipped
    await bot.stop()
    bot.clock.set(SLOT + 2 * DAY + timedelta(hours=3))  # down over two digest hours
    svc = await bot.start()
    assert await svc.digest_if_due(bot.clock.now())
    assert not await svc.digest_if_due(bot.clock.now())
    assert await bot.said("digest") == [{"day": "2026-11-25"}]
    assert await bot.marker(DIGEST) == (SLOT + 2 * DAY).isoformat()


async def test_digest_off_neither_posts_nor_schedules(bot: Bot) -> None:
    svc = await bot.start()
    svc.desk = dataclasses.replace(svc.desk, digest_at=None)
    assert not await svc.digest_if_due(bot.clock.now())
    assert svc.next_digest(bot.clock.now()) is None
    assert await bot.marker(DIGEST) is None


# ---- shift hand-off -------------------------------------------------------------------------


async def test_handoff_at_a_boundary_once_and_none_for_the_shift_running_at_first_start(
    bot: Bot,
) -> None:
    svc = await bot.start()  # 02:00 UTC, in Andi's shift
    assert not await svc.handoff_if_due(bot.clock.now())
    assert await bot.marker(HANDOFF) == datetime(2026, 11, 23, tzinfo=UTC).isoformat()
    assert svc.next_shift_change(bot.clock.now()) == BOUNDARY
    bot.clock.set(BOUNDARY)
    assert await svc.handoff_if_due(bot.clock.now())
    assert not await svc.handoff_if_due(bot.clock.advance(timedelta(hours=1)))
    [handoff] = await bot.said("handoff")
    assert (handoff["from_id"], handoff["to_id"]) == (ANDI, BUDI)
    assert handoff["until"] == (BOUNDARY + timedelta(hours=8)).isoformat()


async def test_restart_within_the_shift_after_its_handoff_posts_nothing(bot: Bot) -> None:
    svc = await bot.start()
    bot.clock.set(BOUNDARY)
    assert await svc.handoff_if_due(bot.clock.now())
    bot.clock.advance(timedelta(seconds=30))
    svc = await bot.start()
    assert not await svc.handoff_if_due(bot.clock.now())
    assert len(await bot.said("handoff")) == 1


async def test_restart_after_missed_boundaries_hands_off_once_for_the_latest(bot: Bot) -> None:
    svc = await bot.start()
    assert not await svc.handoff_if_due(bot.clock.now())
    await bot.stop()
    bot.clock.set(BOUNDARY + timedelta(hours=8, minutes=20))  # down over 08:00 and 16:00
    svc = await bot.start()
    assert await svc.handoff_if_due(bot.clock.now())
    assert not await svc.handoff_if_due(bot.clock.now())
    [handoff] = await bot.said("handoff")
    assert (handoff["from_id"], handoff["to_id"]) == (BUDI, ANDI)  # the 16:00 hand-off
    assert await bot.marker(HANDOFF) == (BOUNDARY + timedelta(hours=8)).isoformat()


async def test_overrides_do_not_move_boundaries(bot: Bot) -> None:
    svc = await bot.start()
    assert not await svc.handoff_if_due(bot.clock.now())
    assert (await svc.set_on_call(ANDI, "budi_mod", timedelta(minutes=30))).key == "oncall_set"
    assert not await svc.handoff_if_due(bot.clock.advance(timedelta(minutes=40)))
    assert svc.next_shift_change(bot.clock.now()) == BOUNDARY


# ---- evidence purge -------------------------------------------------------------------------


async def test_purge_runs_once_an_hour_and_at_start_when_the_hour_is_not_done(
    bot: Bot,
) -> None:
    svc = await bot.start()
    parsed = normalise_link("t.me/propaganda/7")
    assert parsed is not None
    await svc.report(Intake(CHAT, 11, RINA, [parsed], evidence=EvidenceIn(text="bad words")))
    await svc.close(ANDI, [1], Outcome.REMOVED)
    assert await svc.purge_evidence(bot.clock.now()) == 0  # first start: runs, nothing old
    hour = SLOT + timedelta(hours=1)
    assert await bot.marker(PURGE) == hour.isoformat()
    assert svc.next_purge(bot.clock.now() + timedelta(minutes=10)) == hour + timedelta(hours=1)
    bot.clock.advance(timedelta(days=180, minutes=10))  # past retention, same hour of the day
    svc = await bot.start()
    assert await svc.purge_evidence(bot.clock.now()) == 1  # catch-up at start
    bot.clock.advance(timedelta(minutes=10))
    svc = await bot.start()
    assert await bot.marker(PURGE) == (hour + timedelta(days=180)).isoformat()
    assert await svc.purge_evidence(bot.clock.now()) == 0  # this hour's purge is done


# ---- a database from before the job markers -------------------------------------------------


async def test_the_older_markers_are_read_as_their_slots(bot: Bot) -> None:
    svc = await bot.start()
    assert bot.db is not None
    async with bot.db.transaction() as conn:
        await repo.set_meta(conn, "last_digest_day", "2026-11-22")  # yesterday's was done
        await repo.set_meta(conn, "last_shift_index", "-1")  # yesterday's last shift
    assert await svc.digest_if_due(bot.clock.now())  # today's was missed: catch-up
    assert await svc.handoff_if_due(bot.clock.now())  # so was the 00:00 hand-off
    assert await bot.said("digest") == [{"day": "2026-11-23"}]
    assert len(await bot.said("handoff")) == 1
