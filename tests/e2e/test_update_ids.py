"""Update ids: confirmed only after commit, and a new sequence after Telegram renumbers them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.harness import CHAT, RINA, running_bot, started_sandbox


def stored_update_id(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'last_update_id'").fetchone()
    return int(row[0])


def ticket_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])


async def test_reports_after_telegram_renumbers_updates_are_not_lost(tmp_path: Path) -> None:
    db = tmp_path / "liaison.db"
    async with started_sandbox() as sandbox:
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            for n in range(1, 4):
                await w.reply_to(w.say(RINA, f"https://t.me/OldSequence/{n}")["message_id"])
            await w.settled()
            before = stored_update_id(db)
            # a week without updates: Telegram picks a new, lower, sequence
            sandbox.renumber_updates(2)
            # its ids 2, 3, 4 were handled before: each is still a new report
            for n in range(1, 4):
                card = await w.reply_to(w.say(RINA, f"https://t.me/NewSequence/{n}")["message_id"])
                assert f"https://t.me/NewSequence/{n}" in card.text
            await w.settled()
            assert ticket_count(db) == 6
            assert before >= 3
            assert stored_update_id(db) == 4
        # restarted, the bot polls from the new sequence: nothing handled twice or lost
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            last = w.say(RINA, "https://t.me/NewSequence/4")
            await w.reply_to(last["message_id"])
            await w.settled()
            assert ticket_count(db) == 7
            cards = [m for m in w.sent(CHAT) if m.text.startswith("📌 Ticket")]
            assert len(cards) == 7
