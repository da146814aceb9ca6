"""Scenario 3: announcement rate under a burst, the sandbox enforcing 20 messages a minute."""

from __future__ import annotations

import time
from pathlib import Path

from bench.measure import read_only, scalar, wait_rows
from bench.procs import bot_argv, sandbox, spawn
from bench.world import CHAT, bot_env, populate, report_batch

REPORTS = 1000  # 25 full cards: more than one 60-second window of the group limit
GROUP_LIMIT = 20
GROUP_WINDOW = 60.0
ANNOUNCED = (
    "SELECT COALESCE(SUM(json_array_length(payload, '$.tickets')), 0) FROM outbox "
    "WHERE kind = 'card' AND state = 'sent'"
)


async def run_burst(workdir: Path) -> dict[str, float]:
    """One run: 1,000 reports at once; time until the card with the last ticket arrived."""
    async with sandbox(workdir, group_limit=GROUP_LIMIT, group_window=GROUP_WINDOW) as box:
        await populate(box)
        env = bot_env(box, workdir)
        db = Path(env["LIAISON_DATABASE"])
        async with spawn("bot", bot_argv(), workdir / "bot.log", env=env, cwd=workdir) as bot:
            await box.wait_calls("getUpdates", 0, 30.0, watch=bot)
            start = time.monotonic()
            await box.client.send_texts(report_batch(0, REPORTS))
            await wait_rows(db, ANNOUNCED, REPORTS, 600.0, watch=bot, every=0.1)
            with read_only(db) as conn:
                failed = scalar(conn, "SELECT COUNT(*) FROM outbox WHERE state = 'failed'")
            # only cards go to the group here, so every message so far announced tickets
            arrivals = [m["sent_at"] for m in await box.client.messages(CHAT)]
            stats = await box.client.stats()
    minutes = (max(arrivals) - start) / 60
    return {
        "burst_per_minute": REPORTS / minutes,
        "burst_429": float(stats["rejected_429"]),
        "burst_messages": float(len(arrivals)),
        "burst_failed": float(failed),
        "burst_seconds": minutes * 60,
    }
