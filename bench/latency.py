"""Scenario 2: report-to-card latency at idle, one report after another."""

from __future__ import annotations

import time
from pathlib import Path

from bench.measure import percentile
from bench.procs import bot_argv, sandbox, spawn
from bench.world import CHAT, REPORTERS, bot_env, populate, report_text

REPORTS = 200
WARM_UP = 3  # first reports of a fresh process import rendering code: not counted


async def run_latency(workdir: Path) -> dict[str, float]:
    """One run: WARM_UP + 200 reports, each sent once the previous one's card has arrived.

    Latency runs from just before the control call that makes the update available to the
    card's arrival at the sandbox (its `sent_at`, on the same monotonic clock: Linux's
    CLOCK_MONOTONIC is system-wide).
    """
    async with sandbox(workdir, group_limit=None) as box:
        await populate(box)
        env = bot_env(box, workdir)
        argv = bot_argv("bench.botmain")  # Telegram's pacing off: see bench/botmain.py
        async with spawn("bot", argv, workdir / "bot.log", env=env, cwd=workdir) as bot:
            await box.wait_calls("getUpdates", 0, 30.0, watch=bot)
            pushed: dict[int, float] = {}
            for i in range(WARM_UP + REPORTS):
                start = time.monotonic()
                message = await box.client.send_text(
                    CHAT, REPORTERS[i % len(REPORTERS)], report_text(i)
                )
                if i >= WARM_UP:
                    pushed[int(message["message_id"])] = start
                await box.client.wait_messages(CHAT, i + 1, timeout=30.0)
            cards = await box.client.messages(CHAT)
    latencies = [m["sent_at"] - pushed[m["reply_to"]] for m in cards if m["reply_to"] in pushed]
    if len(latencies) != REPORTS:
        raise RuntimeError(f"{len(latencies)} cards answer the {REPORTS} measured reports")
    return {
        "latency_p50_ms": percentile(latencies, 50) * 1000,
        "latency_p99_ms": percentile(latencies, 99) * 1000,
    }
