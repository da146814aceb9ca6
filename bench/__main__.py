"""`python -m bench` (what `make bench` runs): every scenario, three runs each, one table."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.burst import run_burst
from bench.escalation import run_escalation
from bench.growth import prepare_growth, run_growth
from bench.intake import run_intake
from bench.latency import run_latency
from bench.procs import ROOT, tail
from bench.report import machine, table

RUN_TIMEOUT = 600.0  # seconds: a run that hangs is stopped (its processes with it)
Run = Callable[[Path], Awaitable[dict[str, float]]]

NOTES = """\
## How each figure is measured

Every run starts its own sandbox Bot API (`python -m bot.sandbox`) and its own bot process
(`python -m bot run`, configured by LIAISON_* variables) talking real HTTP on 127.0.0.1, with
a SQLite file in a fresh temporary directory. Figures are the median of the runs, with the
lowest and highest run.

1. **Intake.** 2,000 reports with distinct links are queued in one control-API batch; the
   clock runs from the batch call's return until `SELECT COUNT(*) FROM tickets` (polled
   every 10 ms on a read-only connection) reaches 2,000. Then, in the same sandbox, the
   bot is stopped and `bench/echo.py` (PTB `run_polling`, one `send_message` per update) is
   given 2,000 messages the same way; its clock stops when the sandbox holds 2,000 answers.
   The sandbox enforces no group limit here (the echo bot would be refused after 20).
2. **Latency.** 200 reports one after another (3 more before them warm the process up and
   are not counted), each sent once the card for the previous one has arrived. From just
   before the control call that makes the update available to the card's `sent_at` in the
   sandbox (both sides read Linux's system-wide monotonic clock). The bot runs through
   `bench/botmain.py`: `liaison-bot run` with the sender's pacing off. With Telegram's
   limits on (1 message a second per chat, 20 a minute per group) 200 cards in one group
   take at least ten minutes however fast the bot is, which would measure the pacing only.
3. **Burst.** The production bot, the sandbox answering 429 beyond 20 messages per 60 s
   per group. 1,000 reports at once; rate = 1,000 / (arrival of the card carrying the last
   ticket − the batch call) × 60; "all announced" is read from the outbox (card rows
   sent), arrival times and the message count from the sandbox (only cards go to the group
   here). 429 answers are the sandbox's count.
4. **Escalation.** A database generated with 10,000 open, unacknowledged tickets
   (acknowledge deadline 30 s, close deadline 50 s) whose reminders fall due evenly over
   20 s starting 8 s after the bot is launched, and whose overdue steps then fall due over
   the next 20 s: 500 steps a second for 40 s. Lateness = `events.at` of each `escalated`
   event − (`tickets.created_at` + the step's deadline). Each of the 20,000 steps must have
   fired exactly once or the run fails.
5. **Growth.** A database generated once (the bot's migrations, then INSERT … SELECT):
   1,000,000 closed tickets over three years (each with its report, created /
   acknowledged / removed events, card, and evidence if closed within 180 days) and 10,000
   acknowledged open tickets of the last 3.5 hours (none due within the next half hour).
   Due-check: median of 200 calls of `Services.escalate_due()` (and of the query
   `repository.list_due_tickets`) in the benchmark process against that file. Then the bot
   is started on it: start = from spawning the process to the sandbox's first getUpdates
   call (polled every 5 ms), with the CPU time it had used by then (less sensitive to
   other load on the machine); peak RSS = VmHWM once it has handled 100 reports and an
   `/open` listing all 10,000 open tickets. The sandbox's update ids continue after the
   last one the database remembers, as Telegram's do when a bot restarts.

The machine is shared: other work running at the same time shows in the load average above
and makes the figures worse, never better.
"""

FINDINGS = """\
## Causes found (analysis at the time this benchmark was written)

Investigated with py-spy, a lock-hold logger and what-if runs (patched copies of the bot,
not committed). Where a goal is met only narrowly, the same causes are at work.

- **Burst rate.** The sender groups up to 40 queued cards (`take_batch`,
  `MAX_CARD_TICKETS`), then the renderer splits that group by its character budget
  (`Texts.card_chunks`): with these links 38 tickets fit, so each batch went out as a
  38-ticket card plus a 2-ticket card. 1,000 tickets took 50 messages instead of 26, hence
  a third 60-second window: about 130 s, about 460 tickets a minute. With the batch capped
  at 38 (what-if) the same burst took 68 s: 888 a minute, no 429. Fix: size the batch by
  what one card holds (send only full parts, keep a short trailing part queued while more
  cards wait) instead of a fixed count.
- **Start-up.** Most of it is importing: `bot.rendering` imports `bot.reporting`, which
  imports `bot.charts`, which imports matplotlib at module level: 0.85 s of the 1.9 s of
  CPU before the first getUpdates (54 % of start-up samples). Importing matplotlib when a
  chart is drawn would save that; pydantic-settings (`bot.config`) is the next 12 %.
  The database size does not matter (the same start on an empty file).
- **SQLite through aiosqlite.** Every statement is a hand-off to aiosqlite's worker thread
  and back: 0.15–0.25 ms on this VM, against 0.02–0.06 ms for the statement itself. A
  report is about 13 statements, and each report also wakes the timer (another pass) and
  the sender. What-if (one run each) with the calls run inline on the event loop: intake
  380 reports/s, escalation p99 206 ms; compare the table.
- **Escalation lateness spikes.** `Renderer.say` loads every ticket of a notice with its
  own query while holding the database lock; merged reminder/overdue notices list
  thousands of tickets, so the lock was held for up to 2.5 s and the timer waited as long.
  One `WHERE id IN (…)` query, rendering outside the lock, would remove that. A step also
  costs about 1 ms (event, ticket, card lookup, refresh row: four statements).

## Changes made while benchmarking

- `bot/sender.py`, `Sender.run`: it read (and JSON-decoded) up to 2,000 pending outbox rows
  on every wake-up, and every report wakes it: quadratic in a burst (36 % of the event
  loop's time during intake). It now asks `repository.list_outbox_chats` (one GROUP BY
  over the pending-outbox index) which chats have deliverable rows and when the next
  postponed row is due. Same decisions, no payloads read. Intake: about 42 → 90 reports/s.
- `storage/repository.py`, `_one` / `_all`: `execute_fetchall` (one worker-thread trip per
  query) instead of execute + fetch + close (three).
- `storage/db.py`, migration 2: index `bot_messages(ticket_id)`. Every ticket change looks
  up the cards showing it (`list_card_messages`), which was a scan of every card ever sent:
  with 10,000 cards, 1.5 ms per overdue step, which snowballed to 9 s of lateness in a
  denser first version of scenario 4.
"""


def _scenarios(base: Path) -> list[tuple[str, Run]]:
    growth: dict[str, Path] = {}

    async def growth_run(workdir: Path) -> dict[str, float]:
        if "db" not in growth:
            path, seconds = await prepare_growth(base)
            print(f"  (growth database generated in {seconds:.0f} s)", flush=True)
            growth["db"] = path
        return await run_growth(workdir, growth["db"])

    return [
        ("1 intake", run_intake),
        ("2 latency", run_latency),
        ("3 burst", run_burst),
        ("4 escalation", run_escalation),
        ("5 growth", growth_run),
    ]


async def main(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()
    results: dict[str, list[float]] = {}
    errors: dict[str, list[str]] = {}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as tmp:
        base = Path(tmp)
        for name, run in _scenarios(base):
            if args.only and not any(name.split()[1].startswith(o) for o in args.only):
                continue
            for index in range(args.runs):
                workdir = base / f"{name.replace(' ', '-')}-{index + 1}"
                workdir.mkdir()
                started = time.monotonic()
                try:
                    figures = await asyncio.wait_for(run(workdir), RUN_TIMEOUT)
                except Exception as exc:
                    detail = "".join(traceback.format_exception_only(exc)).strip()
                    errors.setdefault(name, []).append(detail)
                    print(f"{name} run {index + 1}: FAILED {detail}", flush=True)
                    for log in sorted(workdir.glob("*.log")):
                        print(f"--- {log.name}\n{tail(log, 15)}", flush=True)
                    continue
                for key, value in figures.items():
                    results.setdefault(key, []).append(value)
                shown = ", ".join(f"{k}={v:,.2f}" for k, v in figures.items())
                print(
                    f"{name} run {index + 1} ({time.monotonic() - started:.0f} s): {shown}",
                    flush=True,
                )
    text = table(results, errors)
    about = machine(load_before)
    print(f"\n{text}\n\n" + "\n".join(about))
    print(f"\nbenchmark took {(time.monotonic() - began) / 60:.1f} min")
    if args.write:
        (ROOT / "BENCHMARKS.md").write_text(
            "# Benchmarks\n\n`make bench` (`python -m bench`) produced this file; "
            f"{args.runs} runs per figure.\n\n## Machine\n\n"
            + "\n".join(about)
            + f"\n\n## Results\n\n{text}\n\n{NOTES}\n{FINDINGS}",
            encoding="utf-8",
        )
        print(f"written to {ROOT / 'BENCHMARKS.md'}")
    return 1 if errors else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument(
        "--only",
        action="append",
        choices=("intake", "latency", "burst", "escalation", "growth"),
        help="run only this scenario (repeatable)",
    )
    parser.add_argument(
        "--no-write", dest="write", action="store_false", help="do not write BENCHMARKS.md"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
