"""The table: median, min and max of every figure over the runs, against the issue's goals."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import telegram

from bot.clock import SystemClock


@dataclass(frozen=True)
class Figure:
    """One row of the table."""

    key: str
    scenario: str
    label: str
    unit: str
    digits: int = 1
    goal: str = ""  # as shown
    ok: Callable[[float], bool] | None = None
    judged_on: str = "median"  # or "max": every run must meet it

    def verdict(self, values: Sequence[float]) -> str:
        """'met', 'MISSED' or '' (no goal)."""
        if self.ok is None or not values:
            return ""
        value = max(values) if self.judged_on == "max" else statistics.median(values)
        return "met" if self.ok(value) else "MISSED"


FIGURES = [
    Figure("intake_rate", "1 intake", "reports committed per second (2,000 at once)", "/s"),
    Figure("echo_rate", "1 intake", "PTB echo bot: messages answered per second", "/s"),
    Figure(
        "intake_ratio",
        "1 intake",
        "ratio ours / echo",
        "",
        2,
        ">= 0.5 x echo",
        lambda v: v >= 0.5,
    ),
    Figure("lag_p50_ms", "1 intake", "bot event-loop lag during the burst, p50", "ms", 2),
    Figure(
        "lag_p99_ms",
        "1 intake",
        "bot event-loop lag during the burst, p99",
        "ms",
        2,
        "<= 10",
        lambda v: v <= 10,
    ),
    Figure("lag_max_ms", "1 intake", "bot event-loop lag during the burst, max", "ms", 2),
    Figure("lag_samples", "1 intake", "lag ticker wake-ups in the burst window", "", 0),
    Figure(
        "latency_p50_ms",
        "2 latency",
        "report to card, p50 (200 in a row)",
        "ms",
        1,
        "<= 100",
        lambda v: v <= 100,
    ),
    Figure(
        "latency_p99_ms",
        "2 latency",
        "report to card, p99",
        "ms",
        1,
        "<= 300",
        lambda v: v <= 300,
    ),
    Figure(
        "burst_per_minute",
        "3 burst",
        "tickets announced per minute (1,000 at once)",
        "/min",
        0,
        ">= 500",
        lambda v: v >= 500,
    ),
    Figure(
        "burst_429", "3 burst", "429 answers", "", 0, "0 in every run", lambda v: v == 0, "max"
    ),
    Figure("burst_messages", "3 burst", "card messages sent for the 1,000 tickets", "", 0),
    Figure("burst_seconds", "3 burst", "time until the last ticket was announced", "s", 1),
    Figure(
        "order_committed_seconds",
        "8 orders",
        "5,000-link CSV order: upload to every ticket committed",
        "s",
        2,
        "<= 10",
        lambda v: v <= 10,
    ),
    Figure(
        "order_announced_seconds",
        "8 orders",
        "upload to the last card delivered (20 messages a minute)",
        "s",
        0,
    ),
    Figure("order_messages", "8 orders", "messages for the order (summary and cards)", "", 0),
    Figure(
        "order_429", "8 orders", "429 answers", "", 0, "0 in every run", lambda v: v == 0, "max"
    ),
    Figure("order_failed", "8 orders", "notifications failed", "", 0),
    Figure("lateness_p50_ms", "4 escalation", "step lateness, p50 (20,000 steps)", "ms", 1),
    Figure(
        "lateness_p99_ms",
        "4 escalation",
        "step lateness, p99",
        "ms",
        1,
        "<= 1000",
        lambda v: v <= 1000,
    ),
    Figure("lateness_max_ms", "4 escalation", "step lateness, max", "ms", 1),
    Figure(
        "due_check_ms",
        "5 growth",
        "due-check (Services.escalate_due), 1M+10k tickets",
        "ms",
        3,
        "<= 5",
        lambda v: v <= 5,
    ),
    Figure("due_query_ms", "5 growth", "due query (repository.list_due_tickets)", "ms", 3),
    Figure(
        "peak_rss_mb",
        "5 growth",
        "bot peak RSS (VmHWM) after reports and /open",
        "MiB",
        1,
        "<= 150",
        lambda v: v <= 150,
    ),
    Figure(
        "start_s",
        "5 growth",
        "process start to first getUpdates",
        "s",
        2,
        "<= 1.5",
        lambda v: v <= 1.5,
    ),
    Figure("start_cpu_s", "5 growth", "CPU time (user+sys) the bot used by then", "s", 2),
    Figure("polling_rate", "6 webhook", "long polling: reports committed per second", "/s"),
    Figure("webhook_rate", "6 webhook", "webhook: reports committed per second", "/s"),
    Figure("webhook_ratio", "6 webhook", "ratio webhook / polling", "", 2),
    Figure(
        "verify_events_per_s",
        "7 verify",
        "liaison-bot verify, 1M-event export: events per second",
        "/s",
        0,
        ">= 100,000",
        lambda v: v >= 100_000,
    ),
    Figure("verify_seconds", "7 verify", "verify wall time (process start to exit)", "s", 2),
    Figure("verify_peak_rss_mb", "7 verify", "verify peak RSS, workers included", "MiB", 1),
    Figure(
        "verify_one_core_events_per_s",
        "7 verify",
        "verify --jobs 1: events per second",
        "/s",
        0,
    ),
    Figure("verify_one_core_peak_rss_mb", "7 verify", "verify --jobs 1: peak RSS", "MiB", 1),
]


def _fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def table(results: dict[str, list[float]], errors: dict[str, list[str]]) -> str:
    """A Markdown table of every figure that has values (or failed runs)."""
    lines = [
        "| scenario | figure | median | min | max | runs | goal | verdict |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for f in FIGURES:
        values = results.get(f.key, [])
        failed = len(errors.get(f.scenario, []))
        if not values and not failed:
            continue
        unit = f" {f.unit}" if f.unit else ""
        if values:
            cells = [
                _fmt(statistics.median(values), f.digits) + unit,
                _fmt(min(values), f.digits),
                _fmt(max(values), f.digits),
            ]
        else:
            cells = ["—", "—", "—"]
        runs = f"{len(values)}" + (f" ({failed} failed)" if failed else "")
        goal = f"{f.goal}{unit}" if f.goal else ""
        lines.append(
            f"| {f.scenario} | {f.label} | {' | '.join(cells)} | {runs} | {goal} "
            f"| {f.verdict(values)} |"
        )
    return "\n".join(lines)


def machine(load_before: tuple[float, float, float]) -> list[str]:
    """What the figures were measured on."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    load_after = os.getloadavg()
    return [
        f"- CPU: {model}, {os.cpu_count()} cores",
        f"- memory: {mem_kib / 1024 / 1024:.1f} GiB",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"python-telegram-bot {telegram.__version__}, Linux {platform.release()}",
        f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}",
        f"- date: {SystemClock().now():%Y-%m-%d %H:%M} UTC",
    ]
