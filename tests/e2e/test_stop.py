"""A clean stop: a message Telegram accepted while the bot was stopping is not sent twice."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.server import Sandbox
from tests.e2e.harness import CHAT, RINA, populate, running_bot


async def test_a_card_in_flight_at_stop_is_recorded_not_sent_again(tmp_path: Path) -> None:
    sandbox = Sandbox(group_limit=None)
    populate(sandbox)
    await sandbox.start()
    try:
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            # Telegram takes the card at once but its answer is slow to come back
            sandbox.delay_answers("sendMessage", 1.5)
            w.say(RINA, "https://t.me/SlowAnswer/1")
            await w.wait(lambda: any("SlowAnswer" in m.text for m in w.sent()))
        # stopped while the answer was on its way; started again on the same database
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            w.say(RINA, "https://t.me/SlowAnswer/2")
            await w.wait(lambda: any("SlowAnswer/2" in m.text for m in w.sent()))
            await w.settled()
            cards = [m for m in w.sent(CHAT) if "SlowAnswer/1" in m.text]
            assert len(cards) == 1
    finally:
        await sandbox.stop()
