"""Property: whatever the use cases do, in any order, each exported ticket is what its
events say (`replay`) and the export verifies, anchors included (SPEC "Proof")."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.domain.links import normalise_link
from bot.domain.tickets import Outcome
from bot.domain.verify import CHECKED_FIELDS, replay, verify
from bot.export import load_records
from bot.services import Intake, Services
from storage import repository as repo
from storage.db import Database
from tests.e2e.harness import ANDI, CHAT, RINA
from tests.test_services import POLICY, T0, config

LINKS = [f"t.me/property_channel/{n}" for n in range(1, 5)]
ACTIONS = (
    "report",
    "report_urgent",
    "ack",
    "close",
    "reject",
    "reopen",
    "clarify",
    "answer",
    "note",
    "assign",
    "time",
    "edit",
    "anchor",
)
steps = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, 3), st.integers(1, 90)),
    min_size=1,
    max_size=18,
)


def _intake(link: str, message_id: int, **kw: Any) -> Intake:
    parsed = normalise_link(link)
    assert parsed is not None
    return Intake(CHAT, message_id, RINA, [parsed], **kw)


async def _play(path: Path, script: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    db = await Database.open(path)
    clock = FakeClock(T0)
    svc = Services(db, clock, config())
    message = 100
    try:
        for action, which, minutes in script:
            ticket = which + 1  # may not exist: the use case answers, nothing is recorded
            message += 1
            if action in ("report", "report_urgent"):
                urgent = action == "report_urgent"
                await svc.report(_intake(LINKS[which], message, urgent=urgent))
            elif action == "edit":
                await svc.report_edited(_intake(LINKS[(which + 1) % 4], 101))
            elif action == "ack":
                await svc.acknowledge(ANDI, [ticket])
            elif action == "close":
                await svc.close(ANDI, [ticket], Outcome.REMOVED)
            elif action == "reject":
                await svc.reject(ANDI, ticket, "not actionable")
            elif action == "reopen":
                await svc.reopen(RINA, ticket, "it is back")
            elif action == "clarify":
                await svc.clarify(ANDI, ticket, "which post?")
            elif action == "answer":
                await svc.note(RINA, ticket, "the second one")
            elif action == "note":
                await svc.note(ANDI, ticket, "checking")
            elif action == "assign":
                await svc.assign(ANDI, ticket, "@budi_mod")
            elif action == "time":
                clock.advance(timedelta(minutes=minutes))
                await svc.escalate_due()
            else:
                async with db.read() as conn:
                    head = await repo.find_chain_head(conn)
                if head[0]:
                    await svc.record_anchor(CHAT, message, head)
        return await load_records(db, POLICY)
    finally:
        await db.close()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(script=steps)
def test_every_ticket_is_what_its_events_say(script: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records = asyncio.run(_play(Path(tmp) / "p.db", script))
    for record in records:
        if "id" not in record:  # the events of no ticket: anchors only
            assert {e["kind"] for e in record["events"]} == {"anchored"}
            continue
        said = replay(sorted(record["events"], key=lambda e: e["seq"]))
        for name in CHECKED_FIELDS:
            shown, expected = record[name], said[name]
            if name.endswith("_at") and shown is not None and expected is not None:
                shown, expected = datetime.fromisoformat(shown), datetime.fromisoformat(expected)
            assert shown == expected, (record["id"], name)
    verdict = verify(records)
    assert verdict.ok, verdict.problems
