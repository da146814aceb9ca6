"""`python -m bench.botmain`: `liaison-bot run` for the scenarios that need more than that.

Everything is `bot.__main__`'s `run`: same settings from LIAISON_*, same application, same
polling loop. Two options:

- `--pacing off` (the default; the latency scenario): the sender's pacing switched off. With
  Telegram's limits (1 message a second per chat, 20 a minute per group) 200 cards in one
  group take at least ten minutes whatever the pipeline does, so the pacing, not the bot,
  would be measured. `--pacing telegram` keeps the production limits (the intake scenario).
- `--lag-file PATH` (the intake scenario): a `bench.lag.LagTicker` runs in the bot's event
  loop from the start; when the bot stops, its samples are written to PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from bench.lag import LagTicker
from bot.__main__ import setup_logging
from bot.app import Runtime, build_application, serve
from bot.clock import SystemClock
from bot.config import load_settings
from bot.roster_file import load_roster
from bot.sender import Limits

NO_PACING = Limits(group_messages=1_000_000, group_window=60.0, min_gap=0.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.botmain", description=__doc__)
    parser.add_argument("--pacing", choices=("off", "telegram"), default="off")
    parser.add_argument("--lag-file", type=Path, help="write the event-loop lag samples here")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.require_run()
    roster = load_roster(settings.roster)
    setup_logging(settings.token)
    if args.pacing == "off":
        runtime = Runtime(settings, roster, SystemClock(), NO_PACING)
    else:
        runtime = Runtime(settings, roster, SystemClock())  # as `liaison-bot run` builds it
    app = build_application(runtime)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        ticker = LagTicker() if args.lag_file else None
        if ticker is not None:
            ticker.start(loop)
        task = asyncio.ensure_future(serve(app))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if ticker is not None:
                ticker.stop()
                ticker.write(args.lag_file)

    asyncio.run(run())


if __name__ == "__main__":
    main()
