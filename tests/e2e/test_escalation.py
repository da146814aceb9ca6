"""Escalation end to end, with second-scale deadlines and a real sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.sandbox.server import Sandbox
from bot.sender import Limits
from tests.e2e.harness import (
    ANDI,
    CHAT,
    RINA,
    SARI,
    SUP_CHAT,
    make_roster,
    running_bot,
    started_sandbox,
)

FAST = {
    "ack_deadline": timedelta(seconds=1),
    "resolve_deadline": timedelta(seconds=2),
    "urgent_deadline": timedelta(seconds=2),
    "escalation_repeat": timedelta(seconds=1),
}


def escalations(world_sandbox: Sandbox) -> list[str]:
    return [m.text for m in world_sandbox.messages(SUP_CHAT) if "ESCALATION" in m.text]


async def test_backup_then_supervisors_then_repeats_then_silence(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **FAST) as w:
        w.sandbox.start_private(SARI)  # the supervisor gets direct messages too
        msg = w.say(RINA, "t.me/hoax_channel/77")
        await w.reply_to(msg["message_id"])
        reminder = await w.text_containing("Not acknowledged")
        assert "Andi Wijaya" in reminder.text and "Budi Santoso" in reminder.text
        assert "#1" in reminder.text
        first = await w.wait(lambda: escalations(w.sandbox) or None, within=5)
        assert "#1" in first[0] and "Sari Dewi" in first[0]
        await w.wait(lambda: any("ESCALATION" in m.text for m in w.sent(SARI)), within=5)
        await w.wait(lambda: len(escalations(w.sandbox)) >= 2, within=5)
        w.say(ANDI, "/done 1")
        await w.settled()
        count = len(escalations(w.sandbox))
        rec = await w.ticket(1)
        assert rec["status"] == "removed"
        steps = [e["detail"] for e in rec["events"] if e["kind"] == "escalated"]
        assert steps[:3] == [
            "step 1: ack_reminder",
            "step 2: overdue",
            "step 3: overdue_repeat, 1s past the deadline",
        ]
        # nothing more once closed, even after several repeat intervals
        await asyncio.sleep(2.5)
        await w.settled()
        assert len(escalations(w.sandbox)) == count
        assert [e for e in (await w.ticket(1))["events"] if e["kind"] == "escalated"] == [
            e for e in rec["events"] if e["kind"] == "escalated"
        ]


async def test_steps_fire_within_a_second_of_due(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **FAST) as w:
        for n in range(5):
            w.say(RINA, f"t.me/lateness_check/{n + 1}")
        await w.wait(lambda: len(escalations(w.sandbox)) >= 1, within=8)
        await w.settled()
        for record in await w.export():
            from datetime import datetime

            created = datetime.fromisoformat(record["created_at"])
            for event in record["events"]:
                if event["detail"] == "step 1: ack_reminder":
                    late = datetime.fromisoformat(event["at"]) - (created + timedelta(seconds=1))
                    assert timedelta(0) <= late < timedelta(seconds=1)


async def test_nobody_on_call_pages_supervisors_at_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, roster=make_roster(order="[]")) as w:
        msg = w.say(RINA, "t.me/hoax_channel/78")
        card = await w.reply_to(msg["message_id"])
        assert "nobody" in card.text
        page = await w.text_containing("Nobody is on call", chat=SUP_CHAT)
        assert "#1" in page.text and "Sari Dewi" in page.text


async def test_on_call_who_left_the_chat_without_direct_messages_pages_supervisors(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as w:
        w.say(RINA, "t.me/hoax_channel/90")
        await w.settled()
        assert not [m for m in w.sent(SUP_CHAT) if "on call" in m.text]  # reachable: no page
        w.sandbox.leave_chat(CHAT, ANDI)  # Andi, on call, leaves; never started the bot
        await w.settled()
        msg = w.say(RINA, "t.me/hoax_channel/91")
        await w.reply_to(msg["message_id"])
        page = await w.text_containing("has left the liaison chat", chat=SUP_CHAT)
        assert "Andi Wijaya" in page.text and "#2" in page.text and "#1" not in page.text
        assert "Sari Dewi" in page.text
        events = (await w.ticket(2))["events"]
        assert [e["detail"] for e in events if e["kind"] == "escalated"] == [
            "Andi Wijaya not reachable: supervisors"
        ]
        info = await w.reply_to(w.say(RINA, "/oncall")["message_id"])
        assert "has left the liaison chat and has not started the bot" in info.text
        # back in the chat: the card's mention reaches him again
        w.sandbox.join_chat(CHAT, ANDI)
        await w.settled()
        w.say(RINA, "t.me/hoax_channel/92")
        await w.settled()
        pages = [m for m in w.sent(SUP_CHAT) if "has left" in m.text]
        assert len(pages) == 1
        info = await w.reply_to(w.say(RINA, "/oncall")["message_id"])
        assert "has left" not in info.text


async def test_on_call_who_left_the_chat_but_takes_direct_messages_is_paged_there(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(ANDI)
        await w.settled()
        w.sandbox.leave_chat(CHAT, ANDI)
        await w.settled()
        w.say(RINA, "t.me/hoax_channel/93")
        await w.text_containing("new ticket", chat=ANDI)
        await w.settled()
        assert not [m for m in w.sent(SUP_CHAT) if "has left" in m.text]
        # someone who is not rostered leaving changes nothing
        w.sandbox.leave_chat(CHAT, RINA)
        await w.settled()


def restricted(user: dict[str, object], *, is_member: bool) -> dict[str, object]:
    flags = [
        *("can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages"),
        *("can_send_polls", "can_send_other_messages", "can_add_web_page_previews"),
        *("can_manage_topics", "can_send_audios", "can_send_documents", "can_send_photos"),
        *("can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_edit_tag"),
        "can_react_to_messages",
    ]
    return {
        "status": "restricted",
        "user": user,
        "is_member": is_member,
        "until_date": 0,
        **dict.fromkeys(flags, False),
    }


async def test_a_restricted_on_call_who_left_counts_as_gone(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        andi = w.sandbox.user(ANDI)
        w.sandbox.push_update(
            {
                "chat_member": {
                    "chat": w.sandbox.chat(CHAT),
                    "from": andi,
                    "date": 0,
                    "old_chat_member": restricted(andi, is_member=True),
                    "new_chat_member": restricted(andi, is_member=False),
                }
            }
        )
        await w.settled()
        w.say(RINA, "t.me/hoax_channel/95")
        await w.text_containing("has left the liaison chat", chat=SUP_CHAT)


async def test_many_tickets_while_on_call_is_unreachable_are_paged_in_few_messages(
    tmp_path: Path,
) -> None:
    # Telegram's pace of one message a second to a chat is what lets notices queue and merge
    async with running_bot(tmp_path, limits=Limits(min_gap=1.0, group_window=60.0)) as w:
        w.sandbox.leave_chat(CHAT, ANDI)
        await w.settled()
        for n in range(30):
            w.say(RINA, f"t.me/hoax_channel/{200 + n}")
        await w.settled()
        pages = [m for m in w.sent(SUP_CHAT) if "has left the liaison chat" in m.text]
        listed = " ".join(p.text for p in pages)
        assert all(f"#{n}" in listed for n in range(1, 31))
        assert len(pages) <= 5, len(pages)  # merged, not one message per ticket


async def test_direct_message_refused_is_noted_once_and_not_retried(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(ANDI)
        await w.settled()
        w.sandbox.block_bot(ANDI)
        w.say(RINA, "t.me/hoax_channel/80")
        await w.settled()
        w.say(RINA, "t.me/hoax_channel/81")
        await w.settled()
        dm_attempts = [
            p
            for m, p in w.sandbox.calls
            if m == "sendMessage" and str(p.get("chat_id")) == str(ANDI)
        ]
        # one welcome, one refused page; the second ticket does not try again
        assert len(dm_attempts) == 2


async def test_injected_429_and_5xx_are_retried_until_delivered(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.fail_next("sendMessage", 429, retry_after=1)
        w.sandbox.fail_next("sendMessage", 502)
        msg = w.say(RINA, "t.me/hoax_channel/90")
        card = await w.reply_to(msg["message_id"], within=10)
        assert "#1" in card.text
        await w.settled()
        assert len([m for m in w.sent() if m.reply_to == msg["message_id"]]) == 1


@pytest.mark.timeout(120)
async def test_burst_of_200_is_announced_within_a_minute_without_429(tmp_path: Path) -> None:
    async with (
        started_sandbox(group_limit=20, group_window=60.0) as sandbox,
        running_bot(tmp_path, sandbox=sandbox, limits=Limits()) as w,
    ):
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(200):
            w.say(RINA, f"burst t.me/burst_channel/{n + 1}")
            if n % 20 == 19:
                await asyncio.sleep(1.0)  # 200 reports spread over 10 s
        announced = await w.wait(
            lambda: (
                len({n for m in w.sent() for n in range(1, 201) if f"#{n} " in m.text}) == 200
                or None
            ),
            within=60,
        )
        assert announced
        elapsed = loop.time() - start
        assert elapsed < 60
        assert sandbox.rejected_429 == 0
        assert len(w.sent()) <= 20
        records = await w.export()
        assert len(records) == 200
