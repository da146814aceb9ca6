"""Telegram as it really is: what is not a report stays quiet; an edited report is followed."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import ANDI, CHAT, RINA, running_bot


async def test_a_linked_channels_automatic_forward_is_not_a_report(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        channel = w.sandbox.add_chat(-1001777000001, "Our news", "channel", username="ournews")
        w.sandbox.automatic_forward(CHAT, channel, 55, "New post: see t.me/ournews/55")
        await w.settled()
        assert w.sent() == []
        assert await w.export() == []


async def test_pinning_a_report_makes_no_second_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "t.me/pin_case/1")
        await w.reply_to(msg["message_id"])
        w.sandbox.pin(CHAT, ANDI, msg["message_id"])
        await w.settled()
        assert len(w.sent()) == 1  # the card, nothing for the pin
        [record] = await w.export()
        assert record["report_count"] == 1


async def test_another_bots_command_is_ignored_and_ours_works(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        card = await w.reply_to(w.say(RINA, "t.me/cmd_case/1")["message_id"])
        w.say(ANDI, "/ack@some_other_bot 1")
        w.say(ANDI, "/done@some_other_bot 1 t.me/cmd_case/2")
        await w.settled()
        assert [m.message_id for m in w.sent()] == [card.message_id]
        assert (await w.ticket(1))["status"] == "open"
        me = w.sandbox.bot_user["username"]
        ours = w.say(ANDI, f"/ack@{me} 1")
        assert (await w.reply_to(ours["message_id"])).text == "✅ #1 acknowledged."
        assert (await w.ticket(1))["status"] == "acknowledged"


async def test_a_link_added_by_an_edit_becomes_a_ticket_and_a_removed_one_stays(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "please take down t.me/edit_case/1")
        await w.reply_to(msg["message_id"])
        w.sandbox.edit_text(CHAT, msg["message_id"], "t.me/edit_case/1 and t.me/edit_case/2")
        second = await w.wait(
            lambda: next(
                (m for m in w.sent() if m.reply_to == msg["message_id"] and "#2" in m.text), None
            )
        )
        assert "https://t.me/edit_case/2" in second.text
        w.sandbox.edit_text(CHAT, msg["message_id"], "only t.me/edit_case/2 now")
        await w.settled()
        records = await w.export()
        assert [r["link"] for r in records] == [
            "https://t.me/edit_case/1",
            "https://t.me/edit_case/2",
        ]  # history only grows: the removed link keeps its ticket
        first = records[0]["events"]
        assert [e["kind"] for e in first] == ["created", "edited", "edited"]
        assert [e["data"]["link_removed"] for e in first[1:]] == [False, True]
        assert first[-1]["detail"] == "report edited: link removed"
        assert len([m for m in w.sent() if m.reply_to == msg["message_id"]]) == 2


async def test_chatter_edited_into_a_report_becomes_a_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "rapat jam 3")
        await w.settled()
        assert w.sent() == []
        w.sandbox.edit_text(CHAT, msg["message_id"], "rapat jam 3, dan ini: t.me/late_link/7")
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/late_link/7" in card.text


async def test_an_album_of_posts_gets_one_ticket_each_and_one_reply(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        channel = w.sandbox.add_chat(-1001777000002, "Hoax hub", "channel", username="hoaxhub")
        origins = [w.sandbox.origin_channel(channel, n) for n in (11, 12, 13)]
        album = w.sandbox.forward_album(CHAT, RINA, origins)
        first = album[0]["message_id"]
        card = await w.reply_to(first)
        await w.settled()
        assert card.text.startswith("📥 3 new tickets")
        assert all(f"https://t.me/hoaxhub/{n}" in card.text for n in (11, 12, 13))
        replies = [m for m in w.sent() if m.reply_to in {a["message_id"] for a in album}]
        assert replies == [card]  # one reply for the album
        assert [r["link"] for r in await w.export()] == [
            f"https://t.me/hoaxhub/{n}" for n in (11, 12, 13)
        ]
        again = w.sandbox.forward_album(CHAT, RINA, origins)
        dup = await w.reply_to(again[0]["message_id"])
        await w.settled()
        assert dup.text.startswith("🔁 Already tracked")
        assert all(f"#{n}" in dup.text for n in (1, 2, 3))
        assert not [m for m in w.sent() if m.reply_to in {a["message_id"] for a in again[1:]}]
