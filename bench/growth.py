"""Scenario 5: growth. One million closed and 10,000 open tickets in a generated database."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.dbgen import growth_db
from bench.measure import read_only, scalar, wait_rows
from bench.procs import SandboxProc, bot_argv, sandbox, spawn
from bench.world import ANDI, CHAT, ROSTER, SUP_CHAT, bot_env, populate, report_batch
from bot.clock import SystemClock
from bot.domain.tickets import standard_policy
from bot.roster_file import parse_roster
from bot.services import Desk, Services
from storage import repository as repo
from storage.db import Database

CLOSED = 1_000_000
OPEN = 10_000
RETENTION = timedelta(days=180)
CHECKS = 200  # due-checks timed per run
LOAD = 100  # reports handled before the peak RSS is read


async def prepare_growth(workdir: Path) -> tuple[Path, float]:
    """Generate the database once for all runs; returns its path and the seconds it took."""
    path = workdir / "growth.db"
    began = time.perf_counter()
    await growth_db(path, SystemClock().now(), closed=CLOSED, open_=OPEN, retention=RETENTION)
    return path, time.perf_counter() - began


async def _median_ms(action: Callable[[], Awaitable[Any]], times: int) -> float:
    for _ in range(3):
        await action()  # warm the page cache and the statement cache
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


async def due_check(path: Path) -> dict[str, float]:
    """In-process timings against the big file: the timer's due-check and the queries under it."""
    db = await Database.open(path)
    try:
        desk = Desk(
            chat_id=CHAT,
            supervisor_chat_id=SUP_CHAT,
            roster=parse_roster(ROSTER),
            policy=standard_policy(),
            zone=ZoneInfo("Asia/Jakarta"),
            evidence_retention=RETENTION,
        )
        services = Services(db, SystemClock(), desk)

        async def due_query() -> None:
            async with db.read() as conn:
                await repo.list_due_tickets(conn, services.clock.now())

        return {
            "due_check_ms": await _median_ms(services.escalate_due, CHECKS),
            "due_query_ms": await _median_ms(due_query, CHECKS),
        }
    finally:
        await db.close()


async def _answered(box: SandboxProc, message_id: int, within: float) -> None:
    """Wait for the bot's reply to a message (the /open list: rendered in full by then)."""
    deadline = time.monotonic() + within
    while not any(m["reply_to"] == message_id for m in await box.client.messages(CHAT)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no reply to message {message_id} within {within}s")
        await asyncio.sleep(0.2)  # the bot paces its messages: about one a second


async def run_growth(workdir: Path, path: Path) -> dict[str, float]:
    """One run: the due-check in this process, then the bot started on the file: time to its
    first getUpdates, and its peak RSS after handling reports and an /open of 10,000 tickets."""
    figures = await due_check(path)
    async with sandbox(workdir, group_limit=20) as box:
        await populate(box)
        env = bot_env(box, workdir)
        env["LIAISON_DATABASE"] = str(path)
        with read_only(path) as conn:
            handled = scalar(conn, "SELECT value FROM meta WHERE key = 'last_update_id'")
        await box.continue_update_ids(handled)
        began = time.monotonic()
        async with spawn("bot", bot_argv(), workdir / "bot.log", env=env, cwd=workdir) as bot:
            polling = await box.wait_calls("getUpdates", 0, 60.0, watch=bot)
            figures["start_s"] = polling - began
            figures["start_cpu_s"] = bot.cpu_seconds()
            with read_only(path) as conn:
                first = scalar(conn, "SELECT MAX(id) FROM tickets") + 1  # earlier runs added some
            await box.client.send_texts(report_batch(first, LOAD))
            asked = await box.client.send_text(CHAT, ANDI, "/open")
            await wait_rows(path, "SELECT MAX(id) FROM tickets", first + LOAD - 1, 60.0, watch=bot)
            await _answered(box, int(asked["message_id"]), 120.0)
            figures["peak_rss_mb"] = bot.peak_rss_mb()
    return figures
