"""The digest and the hand-off list overdue tickets by category, the nearest legal deadline
first (SPEC "Categories and deadlines"; issue 14)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.tickets import by_category_legal_first
from bot.notices import Digest
from bot.rendering import Renderer
from storage import repository as repo
from storage.db import Database
from tests.test_services import T0, intake, services


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


async def test_overdue_by_category_with_the_legal_deadline_first(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    # gambling: legal 4 h; pornography: legal 24 h; terrorism: legal 4 h but reported later
    for n, tag in ((1, "pornografi"), (2, "judol"), (3, "judol")):
        await svc.report(dataclasses.replace(intake(f"t.me/digest_case/{n}", n), tags=(tag,)))
        clock.advance(timedelta(minutes=10))
    await svc.report(dataclasses.replace(intake("t.me/digest_case/4", 4), tags=("terorisme",)))
    clock.advance(timedelta(hours=5))  # every one of them past its agreed window
    async with db.read() as conn:
        tickets = await repo.list_open_tickets(conn)
    groups = by_category_legal_first(tickets, svc.desk.policy, clock.now())
    assert [(key, [t.id for t in group]) for key, group in groups] == [
        ("gambling", [2, 3]),  # legal deadline T0+10m+4h comes first
        ("terrorism", [4]),  # T0+30m+4h
        ("pornography", [1]),  # T0+24h: the furthest, though reported first
    ]
    [rendered] = await Renderer(svc).render(Digest(day="2026-11-23"))
    text = rendered.text
    order = [text.index(word) for word in ("Online gambling", "Terrorism", "Pornography")]
    assert order == sorted(order)
    assert text.index("#2 ") < text.index("#3 ") < text.index("#4 ") < text.index("#1 ")


async def test_the_chart_volume_is_counted_by_category(db: Database) -> None:
    from bot.figures import load_stats

    clock = FakeClock(T0)
    svc = services(db, clock)
    for n, tag in enumerate(("judol", "judol", "terorisme"), start=1):
        await svc.report(dataclasses.replace(intake(f"t.me/chart_count/{n}", n), tags=(tag,)))
    clock.advance(timedelta(days=1))
    await svc.report(intake("t.me/chart_count/4", 4))
    stats = await load_stats(db, svc.desk.policy, svc.desk.zone, clock.now(), 2)
    assert [dict(counts) for _, counts in stats.daily_by_category] == [
        {"gambling": 2, "terrorism": 1},
        {"other": 1},
    ]
