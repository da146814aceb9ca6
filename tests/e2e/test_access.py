"""Who may do what, and where the bot serves at all: through the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.sandbox.server import SentMessage
from tests.e2e.harness import (
    ANDI,
    BUDI,
    CHAT,
    DEWI,
    EVE,
    RINA,
    SARI,
    SUP_CHAT,
    World,
    running_bot,
)

FOREIGN = -1009000000001
BASIC_GROUP = -4242
REFUSAL = "⛔ This command is not for your role."
NOT_SERVED = "This bot serves only the people listed in the liaison chat's roster."
LEAVING = "This bot serves only the ministry–Telegram liaison chat. Leaving this group."


async def report(w: World, text: str, user: int = RINA) -> tuple[dict[str, Any], SentMessage]:
    msg = w.say(user, text)
    return msg, await w.reply_to(msg["message_id"])


async def command(w: World, user: int, text: str, chat: int = CHAT) -> SentMessage:
    msg = w.say(user, text, chat=chat)
    return await w.reply_to(msg["message_id"], chat=chat)


async def test_a_reporter_cannot_moderate(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        for text in (
            "/ack 1",
            "/done 1",
            "/removed 1 banned",
            "/reject 1 not propaganda",
            "/clarify 1 which one?",
            "/assign 1 @budi_mod",
            "/oncall @budi_mod",
        ):
            reply = await command(w, RINA, text)
            assert reply.text == REFUSAL, text
        # a refusal is one short line, and the card has not moved
        await w.settled()
        assert w.sandbox.message(CHAT, card.message_id).edits == []
        record = await w.ticket(1)
        assert record["status"] == "open"
        assert record["assignee_id"] is None
        assert [e["kind"] for e in record["events"]] == ["created"]
        on_call = await command(w, RINA, "/oncall")
        assert on_call.text.startswith("📟 On call now: Andi Wijaya")


async def test_a_reporter_pressing_a_card_button_is_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        for data in ("ack:1", "done:1"):
            query = w.sandbox.press_button(CHAT, DEWI, card.message_id, data)
            answer = await w.wait(lambda q=query: w.sandbox.callback_answers.get(q["id"]))
            assert answer["text"] == REFUSAL
            assert answer["show_alert"] is True
        await w.settled()
        assert w.sandbox.message(CHAT, card.message_id).edits == []
        assert (await w.ticket(1))["status"] == "open"
        assert len(w.sent()) == 1


async def test_a_reporter_may_use_the_reporter_commands(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        assert (await command(w, DEWI, "/ticket 1")).text.startswith("📌 Ticket #1")
        assert (await command(w, DEWI, "/open")).text.startswith("📋 1 open ticket (")
        assert (await command(w, DEWI, "/note 1 seen it too")).text == "📝 Note added to #1."


async def test_a_supervisor_may_do_what_a_moderator_does(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        reply = await command(w, SARI, "/ack 1")
        assert reply.text == "✅ #1 acknowledged."
        record = await w.ticket(1)
        assert (record["status"], record["assignee_id"]) == ("acknowledged", SARI)


async def test_a_strangers_private_message_gets_one_line(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(EVE, "halo bot, t.me/FakeNews/1", chat=EVE)
        line = await w.text_containing(NOT_SERVED, chat=EVE)
        await w.settled()
        assert line.text == NOT_SERVED
        assert "\n" not in line.text
        assert len(w.sent(EVE)) == 1
        assert msg["chat"]["type"] == "private"
        # not a report, not a command: nothing happened anywhere else
        assert await w.export() == []
        assert w.sent() == []


async def test_a_reporter_is_a_stranger_in_private(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(RINA)
        await w.text_containing(NOT_SERVED, chat=RINA)
        w.say(RINA, "/ack 1", chat=RINA)
        await w.settled()
        assert [m.text for m in w.sent(RINA)] == [NOT_SERVED, NOT_SERVED]
        assert await w.export() == []


async def test_a_rostered_person_starts_the_bot_and_gets_direct_messages(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(ANDI)
        hello = await w.text_containing("Hello", chat=ANDI)
        assert hello.text == (
            "👋 Hello Andi Wijaya. You will get direct messages for tickets and escalations."
        )
        await report(w, "https://t.me/FakeNews/1")
        dm = await w.text_containing("new ticket", chat=ANDI)
        assert dm.text == "📟 1 new ticket for you in the liaison chat: #1 https://t.me/FakeNews/1"
        # Budi never started the bot: no attempt to write to him
        await w.settled()
        assert w.sent(BUDI) == []
        assert not [p for m, p in w.sandbox.calls if m == "sendMessage" and p["chat_id"] == BUDI]


async def test_direct_messages_follow_an_assignment(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(BUDI)
        await w.text_containing("Hello Budi Santoso", chat=BUDI)
        await report(w, "t.me/FakeNews/1")
        w.say(ANDI, "/assign 1 @budi_mod")
        dm = await w.text_containing("You were handed", chat=BUDI)
        assert dm.text == "👤 You were handed #1 https://t.me/FakeNews/1."


async def test_a_moderator_works_from_a_private_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(ANDI)
        await w.text_containing("Hello", chat=ANDI)
        msg, card = await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/ack 1", chat=ANDI)
        assert reply.text == "✅ #1 acknowledged."
        await w.wait(lambda: "Acknowledged" in w.sandbox.message(CHAT, card.message_id).text)
        # the liaison chat sees the close; the private chat is told, since it sees nothing
        reply = await command(w, ANDI, "/done 1 gone", chat=ANDI)
        assert reply.text == "☑️ #1 closed."
        notice = await w.text_containing("Your report #1")
        assert notice.reply_to == msg["message_id"]
        detail = await command(w, ANDI, "/ticket 1", chat=ANDI)
        assert "Status: Actioned — already gone" in detail.text
        record = await w.ticket(1)
        assert (record["status"], record["outcome"]) == ("removed", "gone")


async def test_added_to_a_foreign_group_it_says_why_and_leaves(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.add_chat(FOREIGN, "Random group", "supergroup")
        w.sandbox.add_bot_to_group(FOREIGN, EVE)
        await w.wait(lambda: FOREIGN in w.sandbox.left_chats)
        assert [m.text for m in w.sent(FOREIGN)] == [LEAVING]
        w.sandbox.add_chat(BASIC_GROUP, "A basic group", "group")
        w.sandbox.add_bot_to_group(BASIC_GROUP, RINA)
        await w.wait(lambda: BASIC_GROUP in w.sandbox.left_chats)
        assert [m.text for m in w.sent(BASIC_GROUP)] == [LEAVING]


async def test_added_to_its_own_chats_it_stays(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.add_bot_to_group(CHAT, RINA)
        w.sandbox.add_bot_to_group(SUP_CHAT, SARI)
        await w.settled()
        assert w.sandbox.left_chats == set()
        assert w.sent() == [] and w.sent(SUP_CHAT) == []
        await report(w, "t.me/StillHere/1")


async def test_messages_in_a_foreign_group_never_create_tickets(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.add_chat(FOREIGN, "Random group", "supergroup")
        w.say(EVE, "https://t.me/FakeNews/1", chat=FOREIGN)
        w.say(ANDI, "/ack 1", chat=FOREIGN)
        await w.wait(lambda: FOREIGN in w.sandbox.left_chats)
        marker, _ = await report(w, "t.me/Marker/1")
        await w.settled()
        assert [r["link"] for r in await w.export()] == ["https://t.me/Marker/1"]
        assert [m.text for m in w.sent(FOREIGN)] == [LEAVING]
        assert marker


async def test_links_in_the_supervisor_chat_are_not_reports(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        w.say(SARI, "lihat t.me/FakeNews/2", chat=SUP_CHAT)
        listing = await command(w, SARI, "/open", chat=SUP_CHAT)
        assert listing.text.startswith("📋 1 open ticket (")
        await w.settled()
        assert [r["link"] for r in await w.export()] == ["https://t.me/FakeNews/1"]
        assert [m.text for m in w.sent(SUP_CHAT)] == [listing.text]


async def test_liaison_group_upgraded_to_supergroup_is_kept_and_read(tmp_path: Path) -> None:
    new_id = -1009999000001
    async with running_bot(tmp_path) as w:
        w.sandbox.add_chat(new_id, "Kominfo – Telegram liaison", "supergroup")
        w.sandbox.push_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 1_800_000_000,
                    "chat": {"id": new_id, "type": "supergroup", "title": "liaison"},
                    "from": {"id": RINA, "is_bot": False, "first_name": "Rina"},
                    "migrate_from_chat_id": CHAT,
                }
            }
        )
        warning = await w.text_containing("upgraded", chat=new_id)
        assert str(new_id) in warning.text
        msg = w.say(RINA, "t.me/after_upgrade/5", chat=new_id)
        card = await w.reply_to(msg["message_id"], chat=new_id)
        assert "#1" in card.text
        assert new_id not in w.sandbox.left_chats


async def test_anonymous_group_admin_can_report(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        w.sandbox.push_update(
            {
                "message": {
                    "message_id": 900,
                    "date": 1_800_000_000,
                    "chat": {"id": CHAT, "type": "supergroup", "title": "liaison"},
                    "from": {
                        "id": 1087968824,
                        "is_bot": True,
                        "first_name": "Group",
                        "username": "GroupAnonymousBot",
                    },
                    "sender_chat": {"id": CHAT, "type": "supergroup", "title": "liaison"},
                    "text": "t.me/anon_admin_report/3",
                    "entities": [{"type": "url", "offset": 0, "length": 24}],
                }
            }
        )
        card = await w.text_containing("https://t.me/anon_admin_report/3")
        assert "#1" in card.text
        [record] = await w.export()
        assert record["reporter_id"] == 1087968824
