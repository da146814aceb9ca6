"""Small measuring helpers: read-only SQLite polling, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.procs import Child


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the bot's database (safe while the bot writes: WAL)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
    try:
        yield conn
    finally:
        conn.close()


def scalar(conn: sqlite3.Connection, sql: str, args: Sequence[object] = ()) -> int:
    """The first column of the first row, as an int."""
    row = conn.execute(sql, args).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def wait_rows(
    db: Path,
    sql: str,
    target: int,
    within: float,
    *,
    watch: Child | None = None,
    every: float = 0.01,
) -> float:
    """Poll `sql` (a count) until it reaches `target`; returns time.monotonic() when seen."""
    deadline = time.monotonic() + within
    with read_only(db) as conn:
        while True:
            if scalar(conn, sql) >= target:
                return time.monotonic()
            if watch is not None:
                watch.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sql!r} did not reach {target} within {within}s")
            await asyncio.sleep(every)  # the bot is another process: poll its file


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("empty sample")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]
