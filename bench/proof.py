"""Scenario 7: `liaison-bot verify` on a 1,000,000-event export, its speed and peak memory.

The export is generated directly (not through the bot: a million events through the use
cases would take an hour), as `liaison-bot export` writes it: one ticket per line, then the
events of no ticket. Hashes come from bot.domain.proof, so the file verifies. As in a real
history, tickets are open at the same time: the events of each group of `OPEN` tickets
interleave in `seq` (ticket 1 created, ticket 2 created, …, ticket 1 acknowledged, …).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bot.domain.proof import ZERO, event_hash

TICKETS = 250_000  # four events each: 1,000,000 events, then one anchor
OPEN = 8  # tickets open at once
T0 = datetime(2026, 1, 1, tzinfo=UTC)
MODERATOR = 5001
REPORTER = 4001


def _event(
    chain: list[Any], ticket: int | None, at: datetime, actor: int | None, kind: str, **kw: Any
) -> dict[str, Any]:
    detail, data = kw.pop("detail", ""), kw
    seq, prev = chain[0] + 1, chain[1]
    fields = {
        "seq": seq,
        "prev": prev,
        "at": at.isoformat(),
        "actor_id": actor,
        "kind": kind,
        "detail": detail,
        "data": data,
    }
    digest = event_hash(ticket=ticket, **fields)
    chain[0], chain[1] = seq, digest
    return {**fields, "hash": digest}


def _steps(n: int) -> list[tuple[int, str, dict[str, Any]]]:
    link = f"https://t.me/bench_channel_{n % 997}/{n}"
    created = {"detail": link, "link": link, "forwarded_message_id": None, "urgent": False,
               "evidence": None}  # fmt: skip
    note = {"detail": "checked — melanggar", "text": "checked — melanggar"}
    removed = {"detail": "removed", "outcome": "removed", "note": "", "banned_with": None}
    return [
        (REPORTER, "created", created),
        (MODERATOR, "acknowledged", {}),
        (MODERATOR, "note", note),
        (MODERATOR, "removed", removed),
    ]


def write_export(path: Path, tickets: int = TICKETS) -> tuple[int, str]:
    """The export file; returns the anchor (seq, hash) its last event records."""
    chain: list[Any] = [0, ZERO]
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for first in range(1, tickets + 1, OPEN):
            group = range(first, min(first + OPEN, tickets + 1))
            events: dict[int, list[dict[str, Any]]] = {n: [] for n in group}
            steps = {n: _steps(n) for n in group}
            for step in range(4):  # each step of every open ticket, then the next step
                for n in group:
                    actor, kind, kw = steps[n][step]
                    at = T0 + timedelta(seconds=15 * (chain[0] + 1))
                    events[n].append(_event(chain, n, at, actor, kind, **kw))
            for n in group:
                created, acked, _, closed = (e["at"] for e in events[n])
                record = {
                    "id": n,
                    "link": events[n][0]["data"]["link"],
                    "status": "removed",
                    "urgent": False,
                    "reporter_id": REPORTER,
                    "assignee_id": MODERATOR,
                    "report_count": 1,
                    "created_at": created,
                    "acknowledged_at": acked,
                    "closed_at": closed,
                    "deadline_at": (
                        datetime.fromisoformat(created) + timedelta(hours=4)
                    ).isoformat(),
                    "outcome": "removed",
                    "reopened_from": None,
                    "paused_seconds": 0.0,
                    "category": None,
                    "order": None,
                    "export_since": None,
                    "events": events[n],
                }
                out.write(",\n" if n > 1 else "\n")
                out.write(json.dumps(record, ensure_ascii=False))
        head = (chain[0], chain[1])
        at = T0 + timedelta(seconds=15 * (chain[0] + 1))
        anchor = _event(chain, None, at, None, "anchored", detail=f"seq {head[0]} posted",
                        seq=head[0], hash=head[1], chat_id=-100, message_id=1)  # fmt: skip
        out.write(",\n" + json.dumps({"export_since": None, "events": [anchor]}) + "\n]\n")
    return head


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc (0 once gone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total


def _verify(path: Path, anchor: tuple[int, str], jobs: int | None) -> tuple[float, float, str]:
    """Wall time, peak RSS (MiB) of the verify process with its workers together (sampled
    every 20 ms), and its output."""
    argv = [
        sys.executable,
        "-m",
        "bot",
        "verify",
        str(path),
        "--anchor",
        f"{anchor[0]}:{anchor[1]}",
    ]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    started = time.monotonic()
    child = subprocess.Popen(  # noqa: S603 - our own command line
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(child.pid))
        time.sleep(0.02)
    seconds = time.monotonic() - started
    assert child.stdout is not None
    output = child.stdout.read()
    if child.returncode != 0 or not output.startswith("OK"):
        raise RuntimeError(f"verify failed ({child.returncode}): {output[:300]}")
    return seconds, peak / 2**20, output


async def prepare_proof(base: Path) -> tuple[Path, tuple[int, str], float]:
    """The export file (generated once per benchmark), its anchor, and how long it took."""
    path = base / "export-1m.json"
    started = time.monotonic()
    anchor = await asyncio.to_thread(write_export, path)
    return path, anchor, time.monotonic() - started


async def run_proof(path: Path, anchor: tuple[int, str]) -> dict[str, float]:
    """One verify of the 1M-event export on every core, one on a single core."""
    seconds, peak, output = await asyncio.to_thread(_verify, path, anchor, None)
    events = int(output.split(" tickets, ", 1)[1].split(" events", 1)[0])
    alone, alone_peak, _ = await asyncio.to_thread(_verify, path, anchor, 1)
    return {
        "verify_events_per_s": events / seconds,
        "verify_seconds": seconds,
        "verify_peak_rss_mb": peak,
        "verify_one_core_events_per_s": events / alone,
        "verify_one_core_peak_rss_mb": alone_peak,
    }
