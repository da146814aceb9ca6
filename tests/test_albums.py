"""An album's members share one card, held in the outbox a moment: durable across a restart."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.notices import Card
from bot.services.intake import ALBUM_WAIT
from storage import outbox
from storage.db import Database
from tests.test_services import T0, intake, services


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


async def test_album_members_join_one_held_card_even_after_a_restart(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    for n in (1, 2):
        member = dataclasses.replace(intake(f"t.me/album_case/{n}", 10 + n), album="g1")
        await svc.report(member)
        clock.advance(timedelta(milliseconds=100))
    restarted = services(db, clock)  # the bot stopped and started between two members
    last = dataclasses.replace(intake("t.me/album_case/1", 13), album="g1")  # a duplicate
    await restarted.report(last)
    async with db.read() as conn:
        cards = [i for i in await outbox.list_pending_outbox(conn) if i.kind == "card"]
    [row] = cards
    assert row.notice == Card(tickets=(1, 2), dup=(1,), reply_to=11, album="g1")
    assert row.not_before == T0 + ALBUM_WAIT
    async with db.read() as conn:
        assert await outbox.list_pending_outbox(conn, due_at=T0) == [
            i for i in await outbox.list_pending_outbox(conn) if i.kind != "card"
        ]  # held back until the album is complete


async def test_a_late_member_after_the_card_went_out_gets_its_own(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(dataclasses.replace(intake("t.me/album_case/1", 11), album="g2"))
    async with db.transaction() as conn:
        [row] = [i for i in await outbox.list_pending_outbox(conn) if i.kind == "card"]
        await outbox.mark_outbox_sent(conn, [row.id], clock.now(), 500)
    await svc.report(dataclasses.replace(intake("t.me/album_case/2", 12), album="g2"))
    async with db.read() as conn:
        cards = [i.notice for i in await outbox.list_pending_outbox(conn) if i.kind == "card"]
    assert cards == [Card(tickets=(2,), reply_to=12, album="g2")]
