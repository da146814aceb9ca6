"""SIGKILL in the middle of a 5,000-link order: after the restart every link is a ticket
of that one order, exactly once (the whole document is one update, one transaction)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import CHAT, RINA
from tests.faults.procs import bot_process, new_sandbox, query, until

LINKS = 5_000


@pytest.mark.slow
async def test_order_survives_a_kill_in_the_middle(tmp_path: Path) -> None:
    sandbox = new_sandbox()
    await sandbox.start()
    rows = ["no,tautan"] + [f"{i},https://t.me/kanal_{i % 300}/{i + 1}" for i in range(LINKS)]
    data = "\n".join(rows).encode()
    try:
        async with bot_process(sandbox, tmp_path / "bot", fast_sender=True) as bot:
            await bot.start()
            sandbox.post_document(CHAT, RINA, "order.csv", data, caption="Surat B-1/2026")
            # the bot has the file: it is parsing it or writing its tickets now
            await sandbox.wait_for(lambda: sandbox.downloads >= 1, timeout=30)
            await bot.kill()
            db = bot.database
            assert query(db, "SELECT COUNT(*) FROM tickets")[0][0] == 0, "killed too late"
            assert sandbox.pending_updates() == 1, "confirmed before its effect"
            await bot.start()
            await until(
                lambda: query(db, "SELECT COUNT(*) FROM tickets")[0][0] == LINKS,
                120,
                "every link a ticket after the restart",
                context=bot.log,
            )
            await sandbox.wait_for(lambda: sandbox.pending_updates() == 0, timeout=60)
            links = query(db, "SELECT link, COUNT(*) FROM tickets GROUP BY link_key")
            assert len(links) == LINKS and all(r[1] == 1 for r in links)
            assert query(db, "SELECT COUNT(*) FROM orders")[0][0] == 1
            assert query(db, "SELECT COUNT(DISTINCT ticket_id) FROM order_tickets")[0][0] == LINKS
            summary = await sandbox.wait_for(
                lambda: [m for m in sandbox.messages(CHAT) if m.text.startswith("📦 Order 1")],
                timeout=60,
            )
            assert len(summary) == 1
            assert "5000 new tickets" in summary[0].text and "#1–#5000" in summary[0].text
    finally:
        await sandbox.stop()
