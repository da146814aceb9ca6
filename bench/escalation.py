"""Scenario 4: escalation precision over 10,000 open tickets with staggered deadlines."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bench.dbgen import escalation_db
from bench.measure import percentile, read_only, wait_rows
from bench.procs import bot_argv, sandbox, spawn
from bench.world import bot_env, populate
from bot.clock import SystemClock

TICKETS = 10_000
ACK = timedelta(seconds=30)
RESOLVE = timedelta(seconds=50)  # overdue steps start as the reminders end
SPREAD = timedelta(seconds=20)  # each kind of step falls due over 20 s: 500 steps/s
LEAD = timedelta(seconds=8)  # room for the bot to start before the first step is due
STEP = re.compile(r"\b(ack_reminder|overdue_repeat|overdue)\b")  # the step's kind in `detail`
ESCALATED = "SELECT COUNT(*) FROM events WHERE kind = 'escalated'"


async def run_escalation(workdir: Path) -> dict[str, float]:
    """One run: 10,000 tickets whose reminders fall due over 20 s, then their overdue steps
    over the next 20 s; lateness of each of the 20,000 steps fired inside the bot."""
    first_due = SystemClock().now() + LEAD
    created = [first_due - ACK + SPREAD * i / TICKETS for i in range(TICKETS)]
    async with sandbox(workdir, group_limit=20) as box:
        await populate(box)
        env = bot_env(
            box,
            workdir,
            ack_deadline=f"{ACK.seconds}s",
            resolve_deadline=f"{RESOLVE.seconds}s",
            urgent_deadline=f"{RESOLVE.seconds}s",
            escalation_repeat="1h",
        )
        db = Path(env["LIAISON_DATABASE"])
        await escalation_db(db, created, ACK)
        async with spawn("bot", bot_argv(), workdir / "bot.log", env=env, cwd=workdir) as bot:
            await box.wait_calls("getUpdates", 0, 30.0, watch=bot)
            ready = SystemClock().now()
            if ready >= first_due:
                raise RuntimeError(f"the bot started {ready - first_due} after the first due step")
            within = (LEAD + SPREAD + RESOLVE - ACK).total_seconds() + 60
            await wait_rows(db, ESCALATED, 2 * TICKETS, within, watch=bot, every=0.2)
            with read_only(db) as conn:
                rows = conn.execute(
                    "SELECT e.ticket_id, e.at, e.detail, t.created_at FROM events e "
                    "JOIN tickets t ON t.id = e.ticket_id WHERE e.kind = 'escalated'"
                ).fetchall()
    late: list[float] = []
    fired: Counter[tuple[int, str]] = Counter()
    for ticket_id, at, detail, created_at in rows:
        found = STEP.search(str(detail))
        if found is None:
            raise RuntimeError(f"unknown escalation step {detail!r}")
        step = found.group(0)
        window = {"ack_reminder": ACK, "overdue": RESOLVE}[step]
        due = datetime.fromisoformat(created_at) + window
        late.append((datetime.fromisoformat(at) - due).total_seconds())
        fired[(ticket_id, step)] += 1
    if len(fired) != 2 * TICKETS or max(fired.values()) != 1:
        raise RuntimeError(f"{len(fired)} distinct steps, some fired {max(fired.values())} times")
    return {
        "lateness_p50_ms": percentile(late, 50) * 1000,
        "lateness_p99_ms": percentile(late, 99) * 1000,
        "lateness_max_ms": max(late) * 1000,
    }
