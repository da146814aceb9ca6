"""`make demo`: the scripted flow plays through, and its narration matches the cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.domain.roster import on_call_at
from bot.sandbox.demo import demo_roster, run_demo


@pytest.mark.parametrize("hour", range(0, 24, 3))
def test_the_demo_roster_has_andi_on_call_and_budi_as_backup_at_any_hour(hour: int) -> None:
    clock = FakeClock(datetime(2026, 11, 30, hour, 17, tzinfo=UTC))
    roster = demo_roster(clock)
    duty = on_call_at(roster, [], clock.now())
    assert duty is not None and duty.person.username == "andi_mod"


@pytest.mark.timeout(90)
async def test_the_demo_plays_through_and_shows_what_spec_promises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_demo("en") == 0
    out = capsys.readouterr().out
    for seen in (
        "📌 Ticket #1",  # a link becomes a ticket with a card
        "🔁 Already tracked: #1",  # the same post written differently
        "https://t.me/beritapalsu_id/77",  # a forwarded channel post
        "No Telegram link in this message",  # the hint
        "⏰ Not acknowledged",  # the reminder to on-call and backup
        "🚨 ESCALATION",  # supervisors
        "overdue by 5s",  # and the repeat
        "🧾 Receipt: ",  # every card carries its receipt
        "Category: Terrorism",  # a report's #terorisme sets its category
        "📦 Order 1: 13 new tickets",  # a CSV order: one update, one summary
        "No Telegram link on line/cell: 1, 14",
        "📥 13 new tickets",  # its cards grouped
        "⚓ Chain head: seq 30",  # /anchor posts the chain head
        "OK: 17 tickets, 31 events, head seq 31",  # the export verifies offline, anchored
        "the event's hash does not match its content",  # and an edit is caught
        "seq 30, ticket #17: hash ",  # an edit hidden by re-hashing: caught by the anchor
        "(exit 1)",
        "Demo finished.",
    ):
        assert seen in out, seen
    # the narration calls Andi the one on call: so do the cards
    on_call = set(re.findall(r"On call: (\w+)", out))
    assert on_call == {"Andi"}, on_call
