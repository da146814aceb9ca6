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
from bench.orders import run_orders
from bench.procs import ROOT, tail
from bench.proof import prepare_proof, run_proof
from bench.report import machine, table
from bench.webhook import run_webhook

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
   The goal is half the echo bot's rate (lowered from 0.8: the database calls are moving
   to aiosqlite's worker thread). Our bot runs through `bench/botmain.py` with production
   pacing (what `liaison-bot run` builds) plus a ticker in its event loop (`bench/lag.py`):
   a timer callback due 10 ms after its previous run records how late it ran
   (`loop.time()` minus the time it was due), so a callback holding the loop for 80 ms
   shows as one wake-up about 80 ms late. The bot writes the samples to a file when it is
   stopped; the lag figures are the wake-ups from just before the batch call until the
   2,000th ticket is seen (both sides on the system-wide monotonic clock). A free loop
   wakes the ticker 100 times a second, up to 1 ms late (asyncio rounds its epoll timeout
   up to whole ms); a held loop wakes it less often, so the number of wake-ups in the
   window is shown too: with 30 of them, p99 and max are the same wake-up.
2. **Latency.** 200 reports one after another (3 more before them warm the process up and
   are not counted), each sent once the card for the previous one has arrived. From just
   before the control call that makes the update available to the card's `sent_at` in the
   sandbox (both sides read Linux's system-wide monotonic clock). The bot runs through
   `bench/botmain.py`: `liaison-bot run` with the sender's pacing off. With Telegram's
   limits on (1 message a second per chat, 20 a minute per group) 200 cards in one group
   take at least ten minutes however fast the bot is, which would measure the pacing only.
   PTB's overall limit of 30 messages a second (Telegram's, for a whole bot) stays on: from
   the 31st card each one waits about 1/30 s for it, which is most of the p50. With that
   limit raised too (what-if, one run, 2026-11-30): p50 5.6 ms, p99 12.4 ms.
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

6. **Webhook.** In one sandbox, 2,000 reports with distinct links to `liaison-bot run`
   long polling (production pacing), then, stopped, 2,000 more to the same bot in webhook
   mode (its own database; the sandbox POSTs each update to it on loopback, one at a time,
   as Telegram does with max_connections=1). Each clock runs from the batch call's return
   until the 2,000th ticket is committed; the ratio is webhook rate / polling rate.
7. **Verify.** An export of 250,000 closed tickets with four events each (1,000,000
   events) and one anchor, written directly as `liaison-bot export` writes it (one ticket
   per line; hashes from `bot.domain.proof`, generated once; the events of each 8 tickets
   interleave in seq, as tickets open at the same time do). Then `python -m bot verify
   FILE --anchor SEQ:HASH` as a subprocess, once on every core (worker processes) and once
   with `--jobs 1`: wall time from spawn to exit (Python's start included), events/s =
   events / that time, peak RSS = the largest sum over the process and its workers,
   sampled from /proc every 20 ms. It must print `OK`.

The machine is shared: other work running at the same time shows in the load average above
and makes the figures worse, never better.
"""

HISTORY = "\n## History\n"  # from this heading on, BENCHMARKS.md is hand-written and kept


def _history(path: Path) -> str:
    """The hand-written part of the existing file (findings, fixes, before and after)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    at = text.find(HISTORY)
    return text[at:] if at >= 0 else ""


def _scenarios(base: Path) -> list[tuple[str, Run]]:
    growth: dict[str, Path] = {}

    async def growth_run(workdir: Path) -> dict[str, float]:
        if "db" not in growth:
            path, seconds = await prepare_growth(base)
            print(f"  (growth database generated in {seconds:.0f} s)", flush=True)
            growth["db"] = path
        return await run_growth(workdir, growth["db"])

    proof: dict[str, tuple[Path, tuple[int, str]]] = {}

    async def proof_run(workdir: Path) -> dict[str, float]:
        if "export" not in proof:
            path, anchor, seconds = await prepare_proof(base)
            print(f"  (1M-event export generated in {seconds:.0f} s)", flush=True)
            proof["export"] = (path, anchor)
        return await run_proof(*proof["export"])

    return [
        ("1 intake", run_intake),
        ("2 latency", run_latency),
        ("3 burst", run_burst),
        ("4 escalation", run_escalation),
        ("5 growth", growth_run),
        ("6 webhook", run_webhook),
        ("7 verify", proof_run),
        ("8 orders", run_orders),
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
        target = ROOT / "BENCHMARKS.md"
        target.write_text(
            "# Benchmarks\n\n`make bench` (`python -m bench`) wrote the figures; "
            f"{args.runs} runs per figure. The part from 'History' on is kept as it was.\n\n"
            "## Machine\n\n"
            + "\n".join(about)
            + f"\n\n## Results\n\n{text}\n\n{NOTES}{_history(target)}",
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
        choices=(
            "intake",
            "latency",
            "burst",
            "escalation",
            "growth",
            "webhook",
            "verify",
            "orders",
        ),
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
