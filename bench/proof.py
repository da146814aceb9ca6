"""Scenario 6: `liaison-bot verify` on a 1,000,000-event export, its speed and peak memory.

The export is generated directly (not through the bot: a million events through the use
cases would take an hour), as `liaison-bot export` writes it: one ticket per line, then the
events of no ticket. Hashes come from bot.domain.proof, so the file verifies.
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


def write_export(path: Path, tickets: int = TICKETS) -> tuple[int, str]:
    """The export file; returns the anchor (seq, hash) its last event records."""
    chain: list[Any] = [0, ZERO]
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for n in range(1, tickets + 1):
            created = T0 + timedelta(seconds=60 * n)
            acked, closed = created + timedelta(minutes=3), created + timedelta(minutes=40)
            link = f"https://t.me/bench_channel_{n % 997}/{n}"
            events = [
                _event(chain, n, created, REPORTER, "created", detail=link, link=link,
                       forwarded_message_id=None, urgent=False, evidence=None),
                _event(chain, n, acked, MODERATOR, "acknowledged"),
                _event(chain, n, acked + timedelta(minutes=1), MODERATOR, "note",
                       detail="checked — melanggar", text="checked — melanggar"),
                _event(chain, n, closed, MODERATOR, "removed", detail="removed",
                       outcome="removed", note="", banned_with=None),
            ]  # fmt: skip
            record = {
                "id": n,
                "link": link,
                "status": "removed",
                "urgent": False,
                "reporter_id": REPORTER,
                "assignee_id": MODERATOR,
                "report_count": 1,
                "created_at": created.isoformat(),
                "acknowledged_at": acked.isoformat(),
                "closed_at": closed.isoformat(),
                "deadline_at": (created + timedelta(hours=4)).isoformat(),
                "outcome": "removed",
                "reopened_from": None,
                "paused_seconds": 0.0,
                "category": None,
                "order": None,
                "export_since": None,
                "events": events,
            }
            out.write(",\n" if n > 1 else "\n")
            out.write(json.dumps(record, ensure_ascii=False))
        head = (chain[0], chain[1])
        at = T0 + timedelta(seconds=60 * (tickets + 1))
        anchor = _event(chain, None, at, None, "anchored", detail=f"seq {head[0]} posted",
                        seq=head[0], hash=head[1], chat_id=-100, message_id=1)  # fmt: skip
        out.write(",\n" + json.dumps({"export_since": None, "events": [anchor]}) + "\n]\n")
    return head


def _verify(path: Path, anchor: tuple[int, str]) -> tuple[float, float, str]:
    """Wall time, peak RSS (MiB, from the child's own rusage) and output of one verify."""
    argv = [
        sys.executable,
        "-m",
        "bot",
        "verify",
        str(path),
        "--anchor",
        f"{anchor[0]}:{anchor[1]}",
    ]
    started = time.monotonic()
    child = subprocess.Popen(  # noqa: S603 - our own command line
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0 or not output.startswith("OK"):
        raise RuntimeError(f"verify failed ({child.returncode}): {output[:300]}")
    return seconds, usage.ru_maxrss / 1024, output


async def prepare_proof(base: Path) -> tuple[Path, tuple[int, str], float]:
    """The export file (generated once per benchmark), its anchor, and how long it took."""
    path = base / "export-1m.json"
    started = time.monotonic()
    anchor = await asyncio.to_thread(write_export, path)
    return path, anchor, time.monotonic() - started


async def run_proof(path: Path, anchor: tuple[int, str]) -> dict[str, float]:
    """One verify of the 1M-event export."""
    seconds, peak, output = await asyncio.to_thread(_verify, path, anchor)
    events = int(output.split(" tickets, ", 1)[1].split(" events", 1)[0])
    return {
        "verify_events_per_s": events / seconds,
        "verify_seconds": seconds,
        "verify_peak_rss_mb": peak,
    }
