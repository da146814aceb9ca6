"""Use cases over a real SQLite database and a fake clock that only moves when told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.domain.links import normalise_link
from bot.domain.roster import Roster
from bot.domain.tickets import Outcome, standard_policy
from bot.services import Desk, Intake, Services
from storage import outbox as outbox_rows
from storage import repository as repo
from storage.db import Database
from tests.e2e.harness import ANDI, BUDI, CHAT, RINA, SARI, SUP_CHAT, make_roster

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
POLICY = standard_policy(
    timedelta(minutes=15), timedelta(hours=4), timedelta(hours=1), timedelta(hours=1)
)


def config(roster: Roster | None = None) -> Desk:
    zone = ZoneInfo("Asia/Jakarta")
    return Desk(CHAT, SUP_CHAT, roster or make_roster(), POLICY, zone, "en", digest_at=None)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


def services(db: Database, clock: FakeClock, roster: Roster | None = None) -> Services:
    return Services(db, clock, config(roster))


def intake(link: str, message_id: int = 10, *, urgent: bool = False) -> Intake:
    parsed = normalise_link(link)
    assert parsed is not None
    return Intake(CHAT, message_id, RINA, [parsed], urgent=urgent)


async def outbox(db: Database) -> list[tuple[int, str]]:
    async with db.read() as conn:
        items = await outbox_rows.list_pending_outbox(conn)
    return [(i.chat_id, i.kind) for i in items]


async def events(db: Database, ticket_id: int) -> list[str]:
    async with db.read() as conn:
        return [f"{e.kind}:{e.detail}" for e in await repo.list_events(conn, ticket_id)]


async def test_each_step_fires_exactly_once(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    result = await svc.report(intake("t.me/propaganda/1"))
    assert result.new == (1,)
    assert await svc.escalate_due() == 0
    clock.advance(timedelta(minutes=15))
    assert await svc.escalate_due() == 1
    assert await svc.escalate_due() == 0
    reminders = [o for o in await outbox(db) if o[1] == "ack_reminder"]
    assert reminders == [(CHAT, "ack_reminder")]
    clock.advance(timedelta(hours=3, minutes=45))
    assert await svc.escalate_due() == 1
    assert await svc.escalate_due() == 0
    assert (SUP_CHAT, "overdue") in await outbox(db)
    clock.advance(timedelta(hours=1))
    assert await svc.escalate_due() == 1
    assert [e for e in await events(db, 1) if e.startswith("escalated")] == [
        "escalated:step 1: ack_reminder",
        "escalated:step 2: overdue",
        "escalated:step 3: overdue_repeat, 3600s past the deadline",
    ]


async def test_acknowledged_in_time_skips_the_reminder_and_closed_never_escalates(
    db: Database,
) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/propaganda/2"))
    clock.advance(timedelta(minutes=5))
    [fb] = await svc.acknowledge(ANDI, [1])
    assert fb.key == "acked"
    clock.advance(timedelta(minutes=20))
    assert await svc.escalate_due() == 0
    clock.advance(timedelta(hours=4))
    assert await svc.escalate_due() == 1  # overdue only
    await svc.close(ANDI, [1], Outcome.REMOVED)
    clock.advance(timedelta(hours=10))
    assert await svc.escalate_due() == 0


async def test_steps_missed_while_down_fire_once_after_restart(
    db: Database, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    for n in range(3):
        await svc.report(intake(f"t.me/propaganda/{10 + n}", message_id=20 + n))
    clock.advance(timedelta(hours=5, minutes=1))
    # a fresh service over the same file, as after a restart
    reopened = await Database.open(tmp_path / "t.db")
    try:
        again = services(reopened, clock)
        assert await again.escalate_due() == 9  # 3 tickets x (reminder, overdue, 1 repeat)
        assert await again.escalate_due() == 0
    finally:
        await reopened.close()
    overdue = [o for o in await outbox(db) if o[1] == "overdue"]
    assert overdue == [(SUP_CHAT, "overdue")]  # grouped: one message for all three


async def test_clarification_pauses_and_moves_the_deadline(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/propaganda/3"))
    clock.advance(timedelta(minutes=10))
    await svc.clarify(ANDI, 1, "which post?")
    clock.advance(timedelta(hours=6))
    assert await svc.escalate_due() == 0
    [fb] = await svc.note(RINA, 1, "the second one")
    assert fb.key == "clarified_ok"
    t = await svc.find_ticket(1)
    assert t is not None
    assert t.paused_total == timedelta(hours=6)
    clock.advance(timedelta(minutes=4, seconds=59))
    assert await svc.escalate_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await svc.escalate_due() == 1  # ack reminder, 15 min of unpaused time


async def test_reopen_starts_fresh_deadlines(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/propaganda/4"))
    await svc.close(ANDI, [1], Outcome.GONE)
    clock.advance(timedelta(days=2))
    [fb] = await svc.reopen(RINA, 1, "it is back")
    assert fb.key == "reopened_ok"
    clock.advance(timedelta(minutes=14))
    assert await svc.escalate_due() == 0
    clock.advance(timedelta(minutes=1))
    assert await svc.escalate_due() == 1


async def test_urgent_goes_to_supervisors_after_one_hour(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock)
    await svc.report(intake("t.me/propaganda/5", urgent=True))
    clock.advance(timedelta(minutes=59))
    assert await svc.escalate_due() == 1
    clock.advance(timedelta(minutes=1))
    assert await svc.escalate_due() == 1
    assert (SUP_CHAT, "overdue") in await outbox(db)


async def test_nobody_on_call_goes_straight_to_supervisors(db: Database) -> None:
    clock = FakeClock(T0)
    svc = services(db, clock, make_roster(order="[]"))
    await svc.report(intake("t.me/propaganda/6"))
    assert (SUP_CHAT, "no_oncall") in await outbox(db)
    assert "escalated:nobody on call: supervisors" in await events(db, 1)


async def test_on_call_follows_rotation_and_override(db: Database) -> None:
    clock = FakeClock(T0)
    roster = make_roster(start="2026-11-23T00:00:00+00:00", shift="8h")
    svc = services(db, clock, roster)
    duty, backup = await svc.on_call()
    assert duty is not None and duty.person.telegram_id == ANDI
    assert backup is not None and backup.telegram_id == BUDI
    fb = await svc.set_on_call(ANDI, "budi_mod", timedelta(hours=1))
    assert fb.key == "oncall_set"
    duty, _ = await svc.on_call()
    assert duty is not None and duty.person.telegram_id == BUDI and duty.overridden
    clock.advance(timedelta(hours=1))
    duty, _ = await svc.on_call()
    assert duty is not None and duty.person.telegram_id == ANDI
    assert (await svc.set_on_call(RINA, "budi_mod", None)).key == "refused"
    assert (await svc.set_on_call(SARI, "sari_lead", None)).key == "unknown_moderator"


async def test_handoff_posts_once_per_shift_change(db: Database) -> None:
    clock = FakeClock(T0)
    roster = make_roster(start="2026-11-23T00:00:00+00:00", shift="8h")
    svc = services(db, clock, roster)
    assert not await svc.handoff_if_due(clock.now())  # first look only records the shift
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert await svc.handoff_if_due(clock.now())
    assert not await svc.handoff_if_due(clock.now())
    assert (CHAT, "handoff") in await outbox(db)


async def test_evidence_purged_after_retention_keeps_the_ticket(db: Database) -> None:
    from bot.services import EvidenceIn

    clock = FakeClock(T0)
    svc = services(db, clock)
    parsed = normalise_link("t.me/propaganda/7")
    assert parsed is not None
    await svc.report(Intake(CHAT, 11, RINA, [parsed], evidence=EvidenceIn(text="bad words")))
    await svc.close(ANDI, [1], Outcome.REMOVED)
    clock.advance(timedelta(days=179))
    assert await svc.purge_evidence(clock.now()) == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert await svc.purge_evidence(clock.now()) == 1
    async with db.read() as conn:
        assert await repo.list_evidence(conn, 1) == []
        assert (await repo.get_ticket(conn, 1)).outcome is Outcome.REMOVED
    assert any(e.startswith("evidence_purged") for e in await events(db, 1))
