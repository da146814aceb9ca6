"""A clean stop: a message Telegram accepted while the bot was stopping is not sent twice."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import CHAT, RINA, running_bot, started_sandbox


async def test_a_card_in_flight_at_stop_is_recorded_not_sent_again(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
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
