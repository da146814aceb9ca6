"""Forum topics: a report in a topic is answered in that topic; notices the bot starts itself
go to LIAISON_NOTICE_TOPIC (General when unset; a wrong one falls back to General)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import ANDI, CHAT, RINA, running_bot, started_sandbox


async def test_a_report_in_a_topic_is_answered_there(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        topic = w.sandbox.open_topic(CHAT, RINA, "Judi online")
        msg = w.sandbox.say_in_topic(CHAT, RINA, topic, "t.me/topic_case/1")
        card = await w.reply_to(msg["message_id"])
        assert card.thread == topic
        dup = w.sandbox.say_in_topic(CHAT, RINA, topic, "t.me/topic_case/1 again")
        again = await w.reply_to(dup["message_id"])
        assert again.thread == topic and "Already tracked" in again.text
        cmd = w.sandbox.say_in_topic(CHAT, ANDI, topic, "/ack 1")
        answer = await w.reply_to(cmd["message_id"])
        assert answer.thread == topic
        general = w.say(RINA, "t.me/topic_case/2")
        assert (await w.reply_to(general["message_id"])).thread is None


async def reminder_topic(tmp_path: Path, notice_topic: str) -> tuple[int | None, int]:
    """Where the ack reminder of a report made in a topic goes, and that topic's id.
    `notice_topic`: "topic" (the report's topic), "unset", or "wrong"."""
    async with started_sandbox() as sandbox:
        topic = sandbox.open_topic(CHAT, ANDI, "Notices")
        configured = {"topic": topic, "unset": None, "wrong": topic + 999}[notice_topic]
        settings = {"ack_deadline": timedelta(seconds=1), "notice_topic": configured}
        async with running_bot(tmp_path, sandbox=sandbox, **settings) as w:
            msg = w.sandbox.say_in_topic(CHAT, RINA, topic, "t.me/topic_case/3")
            assert (await w.reply_to(msg["message_id"])).thread == topic
            reminder = await w.text_containing("Not acknowledged")
            assert "#1" in reminder.text
            return reminder.thread, topic


async def test_notices_the_bot_starts_go_to_the_notice_topic(tmp_path: Path) -> None:
    thread, topic = await reminder_topic(tmp_path, "topic")
    assert thread == topic


@pytest.mark.parametrize("configured", ["unset", "wrong"])
async def test_without_a_notice_topic_or_with_a_wrong_one_they_go_to_general(
    tmp_path: Path, configured: str
) -> None:
    thread, _ = await reminder_topic(tmp_path, configured)
    assert thread is None
