"""`python -m bench.botmain`: `liaison-bot run` with the sender's pacing switched off.

Only the latency scenario uses it: with Telegram's limits (1 message a second per chat, 20 a
minute per group) 200 cards in one group take at least ten minutes whatever the pipeline
does, so the pacing, not the bot, would be measured. Everything else is `bot.__main__`'s
`run`: same settings from LIAISON_*, same application, same polling loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.__main__ import setup_logging
from bot.app import Runtime, build_application, serve
from bot.clock import SystemClock
from bot.config import load_settings
from bot.domain.roster import load_roster
from bot.sender import Limits

NO_PACING = Limits(group_messages=1_000_000, group_window=60.0, min_gap=0.0)


def main() -> None:
    settings = load_settings()
    settings.require_run()
    roster = load_roster(settings.roster)
    setup_logging(settings.token)
    app = build_application(Runtime(settings, roster, SystemClock(), NO_PACING))

    async def run() -> None:
        task = asyncio.ensure_future(serve(app))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
