"""``python -m tests.faults.fastbot run``: ``liaison-bot run`` with the sender's pacing relaxed.

The product paces itself to Telegram's limits (one message a second per chat, 20 a minute
per group) and has no setting for it; the crash tests deliver hundreds of notifications
against a sandbox that enforces no limit, so they swap in looser limits. Everything else
is the real command line: settings from LIAISON_*, logging, signals, exit codes.
"""

from __future__ import annotations

import functools

import bot.app
from bot.__main__ import main
from bot.sender import Limits

FAST = Limits(group_messages=10_000, group_window=1.0, min_gap=0.0, max_backoff=2.0)

if __name__ == "__main__":
    bot.app.Runtime = functools.partial(bot.app.Runtime, limits=FAST)  # type: ignore[misc]
    main()
