"""Scenario 6: a 5,000-link CSV order, the sandbox enforcing 20 messages a minute per group."""

from __future__ import annotations

import time
from pathlib import Path

from bench.burst import GROUP_LIMIT, GROUP_WINDOW
from bench.measure import read_only, scalar, wait_rows
from bench.procs import bot_argv, sandbox, spawn
from bench.world import CHAT, REPORTERS, bot_env, populate

LINKS = 5_000
# tickets shown on a delivered card message: the order's one Card row is marked sent with
# its first message (the rest is queued again), so its payload does not say what arrived
SHOWN = "SELECT COUNT(DISTINCT ticket_id) FROM bot_messages WHERE kind = 'card'"


def order_csv(n: int = LINKS) -> bytes:
    """`no;link;note` rows, a few hundred channels, every link distinct."""
    rows = ["no;tautan;catatan"]
    rows += [f"{i};https://t.me/judol_{i % 400}/{i + 1};temuan" for i in range(n)]
    return "\n".join(rows).encode()


async def run_orders(workdir: Path) -> dict[str, float]:
    """One run: the document posted; until every ticket is committed, then until the card
    with the last ticket was delivered (pacing within the group limit)."""
    async with sandbox(workdir, group_limit=GROUP_LIMIT, group_window=GROUP_WINDOW) as box:
        await populate(box)
        env = bot_env(box, workdir)
        db = Path(env["LIAISON_DATABASE"])
        async with spawn("bot", bot_argv(), workdir / "bot.log", env=env, cwd=workdir) as bot:
            await box.wait_calls("getUpdates", 0, 30.0, watch=bot)
            data = order_csv()
            start = time.monotonic()
            await box.client.post_document(CHAT, REPORTERS[0], "temuan.csv", data)
            await wait_rows(
                db, "SELECT COUNT(*) FROM tickets", LINKS, 120.0, watch=bot, every=0.05
            )
            committed = time.monotonic() - start
            await wait_rows(db, SHOWN, LINKS, 900.0, watch=bot, every=0.2)
            with read_only(db) as conn:
                failed = scalar(conn, "SELECT COUNT(*) FROM outbox WHERE state = 'failed'")
            arrivals = [m["sent_at"] for m in await box.client.messages(CHAT)]
            stats = await box.client.stats()
    return {
        "order_committed_seconds": committed,
        "order_announced_seconds": max(arrivals) - start,
        "order_messages": float(len(arrivals)),
        "order_429": float(stats["rejected_429"]),
        "order_failed": float(failed),
    }
