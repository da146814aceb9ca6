"""Scenario 6: intake of 2,000 reports by webhook against long polling, same sandbox, same
run: the ratio is webhook rate / polling rate."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from bench.measure import wait_rows
from bench.procs import bot_argv, sandbox, spawn
from bench.world import bot_env, populate, report_batch

REPORTS = 2000
SECRET = "bench-webhook-secret"  # noqa: S105 - the benchmark's fake secret


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_webhook(workdir: Path) -> dict[str, float]:
    """One run: 2,000 reports at once to a polling bot, then (its own database) 2,000 more
    to a webhook bot on the same sandbox; each clock from the batch call's return to the
    2,000th ticket committed. Both are `liaison-bot run` with production pacing."""
    rates: dict[str, float] = {}
    async with sandbox(workdir, group_limit=None) as box:
        await populate(box)
        port = _free_port()
        modes = {
            "polling": {},
            "webhook": {
                "LIAISON_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
                "LIAISON_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                "LIAISON_WEBHOOK_SECRET": SECRET,
            },
        }
        for index, (mode, extra) in enumerate(modes.items()):
            home = workdir / mode
            home.mkdir()
            env = {**bot_env(box, home), **extra}
            db = Path(env["LIAISON_DATABASE"])
            argv = bot_argv("bench.botmain", "--pacing", "telegram")
            ready = "getWebhookInfo" if extra else "getUpdates"
            before = await box.calls(ready)
            async with spawn(mode, argv, workdir / f"{mode}.log", env=env, cwd=home) as bot:
                await box.wait_calls(ready, before, 30.0, watch=bot)
                await box.client.send_texts(report_batch(index * REPORTS, REPORTS))
                start = time.monotonic()
                done = await wait_rows(
                    db, "SELECT COUNT(*) FROM tickets", REPORTS, 300.0, watch=bot, every=0.01
                )
                rates[mode] = REPORTS / (done - start)
    return {
        "polling_rate": rates["polling"],
        "webhook_rate": rates["webhook"],
        "webhook_ratio": rates["webhook"] / rates["polling"],
    }
