"""Event-loop lag: a ticker inside the bot's loop, and the harness's reading of its samples.

The ticker is a timer callback that asks to run every PERIOD seconds (`loop.call_at`, due
PERIOD after its previous run) and records, each time it runs, when it ran and how late
(`loop.time()` minus the time it was due). A callback that holds the loop for 80 ms shows as
one wake-up about 80 ms late. asyncio waits in epoll with the timeout rounded up to whole
milliseconds, so an idle loop already wakes up to 1 ms late.

Standard library only: it is imported into the bot process (`bench/botmain.py`), which
writes the samples to a file when it stops. `loop.time()` is `time.monotonic()`, Linux's
system-wide CLOCK_MONOTONIC, so the harness can cut out its own time window.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

PERIOD = 0.010  # seconds between wake-ups


class LagTicker:
    """Wakes every PERIOD seconds on the running loop; keeps (woke at, late by) in seconds."""

    def __init__(self, period: float = PERIOD) -> None:
        self.period = period
        self.samples: list[tuple[float, float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Schedule the first wake-up."""
        self._loop = loop
        self._schedule(loop.time() + self.period)

    def _schedule(self, due: float) -> None:
        assert self._loop is not None
        self._handle = self._loop.call_at(due, self._tick, due)

    def _tick(self, due: float) -> None:
        assert self._loop is not None
        now = self._loop.time()
        self.samples.append((now, now - due))
        self._schedule(now + self.period)

    def stop(self) -> None:
        """No more wake-ups."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def write(self, path: Path) -> None:
        """One 'woke_at late_by' line (seconds) per wake-up; the file appears whole."""
        part = path.with_name(path.name + ".part")
        part.write_text("".join(f"{at:.6f} {late:.6f}\n" for at, late in self.samples))
        os.replace(part, path)


def read_window(path: Path, start: float, end: float) -> list[float]:
    """How late (seconds) each wake-up between `start` and `end` (time.monotonic()) was."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RuntimeError(f"the bot wrote no lag samples ({path.name})") from None
    lags = []
    for line in text.splitlines():
        at, late = line.split()
        if start <= float(at) <= end:
            lags.append(float(late))
    return lags
