"""The escalation timer: asks the services what is due and sleeps until the next instant.

One loop, not one job per ticket: the state lives on the tickets in SQLite, so a restart
loses nothing; steps that fell due while the bot was down fire on the first pass.
It stays a loop rather than a JobQueue job because it must fire within about a second of
each due instant and those instants move with every report and acknowledgement: woken by
the services on each change, it reads the next instant from the index instead of
rescheduling a job on every write. The calendar jobs (hand-off, digest, purge) are in
bot/jobs.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.services import Services

log = logging.getLogger(__name__)

MAX_SLEEP = 30.0  # a safety net: re-check at least this often


class Timer:
    """Wakes at the next due instant (or when told that due times changed)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Due times changed: recompute the next wake-up."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: fire what is due, then sleep until the next due instant."""
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer pass failed; retrying shortly")
                await asyncio.sleep(1.0)
                continue
            nxt = await self.services.next_wakeup()
            now = self.services.clock.now()
            delay = MAX_SLEEP if nxt is None else (nxt - now).total_seconds()
            delay = min(MAX_SLEEP, max(0.0, delay))
            if delay == 0.0:
                continue
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def tick(self) -> None:
        """One pass: the escalation steps due now."""
        await self.services.escalate_due()
