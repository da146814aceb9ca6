"""Telegram fails 30 % of sends and edits (429, 500, 502, slow 504s): nothing is lost or doubled.

Every notification in the outbox ends up delivered, every message the chat holds is one
the outbox recorded (a message sent twice would be one it did not), every card shows its
ticket's final state, and escalations still reach the supervisors.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from bot.sandbox.server import SentMessage
from bot.sender import Limits
from tests.e2e.harness import ANDI, CHAT, DEWI, RINA, SUP_CHAT, World, running_bot
from tests.faults.procs import TRACEBACK, card_tickets, query, until

FAST = Limits(group_messages=10_000, group_window=1.0, min_gap=0.0, max_backoff=2.0)
SENDS = ("sendMessage", "editMessageText")
# PTB's rate limiter logs each 429 it passes on as an ERROR with a traceback, though with
# max_retries=0 the outbox retries it (see bot.__main__.setup_logging, which silences it)
RATE_LIMITER = "telegram.ext.AIORateLimiter"


def db(w: World) -> Path:
    return Path(w.settings.database)


def reports() -> list[tuple[int, str]]:
    texts = [f"Propaganda https://t.me/FakeNews/{n}" for n in range(1, 13)]
    texts += [
        "lagi: t.me/FakeNews/3",  # duplicates
        "https://t.me/FakeNews/5 sudah dilaporkan",
        "dua sekaligus: t.me/HoaxHarian/1 dan https://t.me/HoaxHarian/2",
    ]
    return [(RINA if i % 2 else DEWI, text) for i, text in enumerate(texts)]


async def settle(w: World, within: float) -> None:
    await w.wait(lambda: w.sandbox.pending_updates() == 0, within)
    await until(
        lambda: not query(db(w), "SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"),
        within,
        "every notification delivered",
        context=lambda: str([tuple(r) for r in query(db(w), "SELECT * FROM outbox")][-20:]),
    )


@pytest.mark.timeout(120)
async def test_flaky_telegram_loses_and_doubles_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(
        tmp_path,
        limits=FAST,
        ack_deadline="2s",
        resolve_deadline="4s",
        escalation_repeat="3s",
    ) as w:
        sandbox = w.sandbox
        sandbox.fail_randomly(0.3, seed=1, statuses=(429, 500, 502), timeout_share=0.15, hang=1.0)
        for user, text in reports():
            w.say(user, text)
        await w.wait(lambda: sandbox.pending_updates() == 0, 30)
        await until(lambda: len(query(db(w), "SELECT id FROM tickets")) == 14, 30, "14 tickets")
        w.say(ANDI, "/ack 1 2 3")
        w.say(ANDI, "/done 4 5")
        w.say(ANDI, "/reject 6 bukan konten Telegram")
        w.say(ANDI, "/note 7 dicek tim")
        w.say(DEWI, "/ticket 7")
        await settle(w, 60)
        # let escalation run a while under faults, then close everything
        await until(
            lambda: query(db(w), "SELECT 1 FROM events WHERE detail LIKE 'step 3:%' LIMIT 1"),
            30,
            "a repeated escalation",
        )
        w.say(ANDI, "/done " + " ".join(str(n) for n in range(1, 15)))
        await until(
            lambda: not query(db(w), "SELECT 1 FROM tickets WHERE closed_at IS NULL"),
            30,
            "every ticket closed",
        )
        await settle(w, 90)
        sandbox.fail_randomly(0, seed=0)
        assert not w.task.done()
        outbox = query(db(w), "SELECT id, chat_id, kind, state, message_id, error FROM outbox")
        tracked = query(db(w), "SELECT chat_id, message_id FROM bot_messages")

    states = Counter(r["state"] for r in outbox)
    assert states == Counter({"sent": len(outbox)}), [tuple(r) for r in outbox if r["state"]]
    calls = sum(1 for name, _ in sandbox.calls if name in SENDS)
    chats = [sandbox.messages(c) for c in (CHAT, SUP_CHAT)]
    accepted = sum(len(ms) + sum(len(m.edits) for m in ms) for ms in chats)
    delivered = {(r["chat_id"], r["message_id"]) for r in outbox if r["message_id"]}
    delivered |= {(r["chat_id"], r["message_id"]) for r in tracked}
    for chat in (CHAT, SUP_CHAT):
        messages = sandbox.messages(chat)
        unrecorded = [m for m in messages if (chat, m.message_id) not in delivered]
        assert not unrecorded, f"sent but never recorded (a duplicate?): {unrecorded}"
        assert not any(TRACEBACK in m.text for m in messages)
    assert sandbox.messages(SUP_CHAT), "escalations never reached the supervisors"
    check_cards(sandbox.messages(CHAT))
    assert sandbox.rejected_429 > 0
    print(
        f"flaky: {len(outbox)} notifications delivered in {accepted} messages and edits; "
        f"{calls} send/edit calls, {calls - accepted} failed ({sandbox.rejected_429} with 429)"
    )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name != RATE_LIMITER]
    assert not errors, [r.getMessage() for r in errors]


def check_cards(messages: list[SentMessage]) -> None:
    """Each ticket on exactly one card, and that card shows it closed."""
    shown: Counter[int] = Counter()
    for m in messages:
        ids = card_tickets(m.text)
        shown.update(ids)
        if ids and m.text.startswith("📌"):
            assert "Status: Actioned" in m.text or "Status: Rejected" in m.text, m.text
        for line in m.text.splitlines():
            if line.startswith("#") and m.text.startswith("📥"):
                assert "Actioned" in line or "Rejected" in line, line
    assert sorted(shown) == list(range(1, 15))
    assert set(shown.values()) == {1}, shown
