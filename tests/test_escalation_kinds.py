"""Every kind of escalation is recorded with its fields and counted by /stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.domain.events import Escalated, Escalation
from bot.domain.stats import Escalations
from bot.figures import load_stats, stats_text
from bot.rendering import Renderer
from storage import repository as repo
from storage.db import Database
from tests.e2e.harness import ANDI, BUDI, SARI, make_roster
from tests.test_services import POLICY, T0, config, intake, services


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


async def escalations_of(db: Database, ticket_id: int) -> list[Escalated]:
    async with db.read() as conn:
        return [
            e.fact
            for e in await repo.list_events(conn, ticket_id)
            if isinstance(e.fact, Escalated)
        ]


async def counted(db: Database, clock: FakeClock) -> Escalations:
    stats = await load_stats(db, POLICY, config().zone, clock.now(), 7)
    return stats.escalations


async def test_ack_reminder_is_counted(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/kind_check/1"))
    clock.advance(timedelta(minutes=15))
    assert await svc.escalate_due() == 1
    [fact] = await escalations_of(db, 1)
    assert (fact.reason, fact.step, fact.recipients) == (Escalation.ACK_REMINDER, 1, (ANDI, BUDI))
    assert await counted(db, clock) == Escalations(ack_reminder=1)


async def test_overdue_is_counted(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/kind_check/1"))
    await svc.acknowledge(ANDI, [1])
    clock.advance(timedelta(hours=4))
    assert await svc.escalate_due() == 1
    [fact] = await escalations_of(db, 1)
    assert (fact.reason, fact.step, fact.recipients) == (Escalation.OVERDUE, 2, (SARI,))
    assert await counted(db, clock) == Escalations(overdue=1)


async def test_overdue_repeat_is_counted_with_how_late(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/kind_check/1"))
    await svc.acknowledge(ANDI, [1])
    clock.advance(timedelta(hours=6))
    assert await svc.escalate_due() == 3  # overdue, then two repeats, caught up at once
    facts = await escalations_of(db, 1)
    assert [f.reason for f in facts] == [
        Escalation.OVERDUE,
        Escalation.OVERDUE_REPEAT,
        Escalation.OVERDUE_REPEAT,
    ]
    assert [f.overdue_seconds for f in facts] == [None, 3600, 7200]
    assert await counted(db, clock) == Escalations(overdue=1, overdue_repeat=2)


async def test_nobody_on_call_is_counted(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock, make_roster(order="[]"))
    await svc.report(intake("t.me/kind_check/1"))
    [fact] = await escalations_of(db, 1)
    assert (fact.reason, fact.step, fact.recipients) == (
        Escalation.NOBODY_ON_CALL,
        None,
        (SARI,),
    )
    assert await counted(db, clock) == Escalations(nobody_on_call=1)


async def test_unreachable_on_call_is_counted(db: Database) -> None:
    """The case the free-text history missed: sent to supervisors because the on-call
    moderator left the chat and never started the bot."""
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.mark_in_chat([ANDI], present=False)
    await svc.report(intake("t.me/kind_check/1"))
    [fact] = await escalations_of(db, 1)
    assert (fact.reason, fact.person, fact.recipients) == (
        Escalation.UNREACHABLE,
        "Andi Wijaya",
        (SARI,),
    )
    stats = await counted(db, clock)
    assert stats == Escalations(unreachable=1)
    assert stats.total == 1


async def test_stats_text_names_every_kind(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.mark_in_chat([ANDI], present=False)
    await svc.report(intake("t.me/kind_check/1"))
    stats = await load_stats(db, POLICY, config().zone, clock.now(), 7)
    text = stats_text(stats, Renderer(svc).texts, 7)
    assert "nobody on call 0" in text
    assert "on call unreachable 1" in text
