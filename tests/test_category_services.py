"""Categories in the use cases: intake tags, a policy file lacking a key in use."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.categories import parse_policy
from bot.domain.links import normalise_link
from bot.services import Intake, Services
from storage import repository as repo
from storage.db import Database
from tests.e2e.harness import CHAT, RINA
from tests.test_services import T0, config


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


def tagged(link: str, message_id: int, *tags: str) -> Intake:
    parsed = normalise_link(link)
    assert parsed is not None
    return Intake(CHAT, message_id, RINA, [parsed], tags=tags)


async def test_a_file_lacking_a_category_in_use_is_named(db: Database) -> None:
    s = Services(db, FakeClock(T0), config())
    await s.report(tagged("t.me/kasino/1", 10, "judol"))
    await s.report(tagged("t.me/kasino/2", 11, "judolan", "terorisme"))
    await s.report(tagged("t.me/kasino/3", 12))
    async with db.read() as conn:
        assert [t.category for t in await repo.list_tickets_by_ids(conn, [1, 2, 3])] == [
            "gambling",
            "terrorism",
            "other",
        ]
    assert await s.categories_missing() == []
    table = parse_policy('[[category]]\nkey = "other"\nlegal = "24h"\n')
    desk = config()
    narrow = dataclasses.replace(desk, policy=dataclasses.replace(desk.policy, categories=table))
    assert await Services(db, FakeClock(T0), narrow).categories_missing() == [
        "gambling",
        "terrorism",
    ]


async def test_the_categories_in_use_take_one_index_step_each(db: Database) -> None:
    """Read at every start: the same as a DISTINCT over every ticket, without the scan."""
    s = Services(db, FakeClock(T0), config())
    for n, tags in enumerate((("judol",), ("terorisme",), (), ("judi",), ("hoaks",)), 1):
        await s.report(tagged(f"t.me/kasino/{n}", 10 + n, *tags))
    async with db.read() as conn:
        found = await repo.list_categories_in_use(conn)
        rows = await conn.execute_fetchall(
            "SELECT DISTINCT category FROM tickets ORDER BY category"
        )
        plan = " ".join(
            str(r[3])
            for r in await conn.execute_fetchall(
                "EXPLAIN QUERY PLAN SELECT MIN(category) FROM tickets WHERE category > 'a'"
            )
        )
    assert found == [r[0] for r in rows] == ["gambling", "other", "public_order", "terrorism"]
    assert "ix_tickets_category" in plan and "SCAN tickets" not in plan.replace("INDEX", "")
