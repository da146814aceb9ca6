"""Scenario 1: intake throughput against a minimal PTB echo bot on the same sandbox, and the
bot's event-loop lag during the burst."""

from __future__ import annotations

import time
from pathlib import Path

from bench.lag import read_window
from bench.measure import percentile, wait_rows
from bench.procs import PYTHON, TOKEN, bot_argv, sandbox, spawn
from bench.world import ECHO_CHAT, bot_env, populate, report_batch

REPORTS = 2000
MIN_LAG_SAMPLES = 20  # fewer wake-ups in the burst window: the measure says nothing


async def run_intake(workdir: Path) -> dict[str, float]:
    """One run: 2,000 reports at once to our bot, then 2,000 messages at once to the echo bot.

    Our bot is `liaison-bot run` with production pacing plus a 10 ms lag ticker in its event
    loop (`bench/botmain.py`, `bench/lag.py`); the lag figures are the wake-ups from just
    before the batch call to the moment all 2,000 tickets were seen committed.
    """
    async with sandbox(workdir, group_limit=None) as box:
        await populate(box)
        env = bot_env(box, workdir)
        db = Path(env["LIAISON_DATABASE"])
        lag_file = workdir / "lag.txt"
        argv = bot_argv("bench.botmain", "--pacing", "telegram", "--lag-file", str(lag_file))
        async with spawn("bot", argv, workdir / "bot.log", env=env, cwd=workdir) as bot:
            await box.wait_calls("getUpdates", 0, 30.0, watch=bot)
            first_sent = time.monotonic()
            await box.client.send_texts(report_batch(0, REPORTS))
            start = time.monotonic()
            done = await wait_rows(
                db, "SELECT COUNT(*) FROM tickets", REPORTS, 300.0, watch=bot, every=0.01
            )
            ours = REPORTS / (done - start)
        # the bot has stopped (spawn's exit) and written its samples
        lags = read_window(lag_file, first_sent, done)
        if len(lags) < MIN_LAG_SAMPLES:
            raise RuntimeError(f"only {len(lags)} lag samples in the burst window")
        polls = await box.calls("getUpdates")
        echo_env = {"BENCH_ECHO_TOKEN": TOKEN, "BENCH_ECHO_BASE_URL": box.base_url}
        argv = [PYTHON, "-m", "bench.echo"]
        async with spawn("echo", argv, workdir / "echo.log", env=echo_env, cwd=workdir) as echo:
            await box.wait_calls("getUpdates", polls, 30.0, watch=echo)
            await box.client.send_texts(report_batch(0, REPORTS, ECHO_CHAT))
            start = time.monotonic()
            await box.client.wait_messages(ECHO_CHAT, REPORTS, timeout=300.0)
            echo_rate = REPORTS / (time.monotonic() - start)
    return {
        "intake_rate": ours,
        "echo_rate": echo_rate,
        "intake_ratio": ours / echo_rate,
        "lag_p50_ms": percentile(lags, 50) * 1000,
        "lag_p99_ms": percentile(lags, 99) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "lag_samples": len(lags),
    }
