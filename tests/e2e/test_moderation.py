"""Moderation through the sandbox: commands, buttons, cards edited in place, the export."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sandbox.server import SentMessage
from tests.e2e.harness import (
    ANDI,
    BUDI,
    CHAT,
    DEWI,
    RINA,
    SARI,
    SUP_CHAT,
    World,
    running_bot,
    seconds,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def report(w: World, text: str, user: int = RINA) -> tuple[dict[str, Any], SentMessage]:
    """A report and the card answering it."""
    msg = w.say(user, text)
    return msg, await w.reply_to(msg["message_id"])


async def command(w: World, user: int, text: str, **kw: Any) -> SentMessage:
    """A command and the bot's (first) reply to it."""
    msg = w.say(user, text, **kw)
    return await w.reply_to(msg["message_id"])


async def edited(w: World, card: SentMessage, needle: str) -> SentMessage:
    """The card once an edit has put `needle` in it."""
    return await w.wait(
        lambda: (m := w.sandbox.message(CHAT, card.message_id)).edits and needle in m.text and m
    )


async def no_reply(w: World, msg: dict[str, Any]) -> None:
    """Once everything is delivered, nothing answers `msg`."""
    await w.settled()
    assert [m.text for m in w.sent() if m.reply_to == msg["message_id"]] == []


def kinds(record: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in record["events"]]


# ---- acknowledge -------------------------------------------------------------------------


async def test_ack_by_number_edits_the_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/ack 1")
        assert reply.text == "✅ #1 acknowledged."
        now = await edited(w, card, "Acknowledged")
        assert "Status: Acknowledged" in now.text
        assert "Held by: Andi Wijaya @andi_mod" in now.text
        assert [d for _, d in now.buttons()] == ["ack:1", "done:1", "rej:1", "cat:1"]  # open
        record = await w.ticket(1)
        assert record["status"] == "acknowledged"
        assert record["assignee_id"] == ANDI
        assert record["acknowledged_at"] is not None
        assert kinds(record) == ["created", "acknowledged"]
        assert record["events"][-1]["actor_id"] == ANDI


async def test_ack_with_hash_and_several_ids(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        for n in range(1, 5):
            await report(w, f"t.me/FakeNews/{n}")
        reply = await command(w, BUDI, "/ack #1")
        assert reply.text == "✅ #1 acknowledged."
        reply = await command(w, BUDI, "/ack 2 #3,4")
        assert reply.text == "✅ #2 acknowledged.\n✅ #3 acknowledged.\n✅ #4 acknowledged."
        records = await w.export()
        assert [(r["status"], r["assignee_id"]) for r in records] == [("acknowledged", BUDI)] * 4
        # again: already theirs, nothing changes
        reply = await command(w, BUDI, "/ack 1")
        assert reply.text == "#1 is already yours."
        assert kinds(await w.ticket(1)) == ["created", "acknowledged"]


async def test_ack_mixed_with_an_unknown_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/ack 1 99")
        assert reply.text == "✅ #1 acknowledged.\nThere is no ticket #99."
        assert [r["id"] for r in await w.export()] == [1]


async def test_ack_as_a_reply_to_the_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        _, card = await report(w, "t.me/FakeNews/2")
        reply = await command(w, ANDI, "/ack", reply_to=card.message_id)
        assert reply.text == "✅ #2 acknowledged."
        await edited(w, card, "Acknowledged")
        one, two = await w.export()
        assert one["status"] == "open"
        assert two["status"] == "acknowledged"


async def test_ack_as_a_reply_to_the_report(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg, _ = await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/ack", reply_to=msg["message_id"])
        assert reply.text == "✅ #1 acknowledged."


async def test_other_commands_as_replies_to_the_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card1 = await report(w, "t.me/FakeNews/1")
        _, card2 = await report(w, "t.me/FakeNews/2")
        reply = await command(w, DEWI, "/note seen it on TikTok too", reply_to=card1.message_id)
        assert reply.text == "📝 Note added to #1."
        w.say(ANDI, "/reject not propaganda, a news report", reply_to=card2.message_id)
        await edited(w, card2, "Rejected")
        w.say(ANDI, "/done gone", reply_to=card1.message_id)
        await edited(w, card1, "already gone")
        one, two = await w.export()
        assert one["events"][-2]["detail"] == "seen it on TikTok too"
        assert (one["status"], one["outcome"]) == ("removed", "gone")
        assert (two["status"], two["outcome"]) == ("rejected", "rejected")
        assert two["events"][-1]["detail"] == "rejected: not propaganda, a news report"


async def test_ack_as_a_reply_to_a_grouped_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/ChanA/1 t.me/ChanB/2 t.me/ChanC/3")
        await report(w, "t.me/ChanD/4")
        reply = await command(w, BUDI, "/ack", reply_to=card.message_id)
        assert reply.text == "✅ #1 acknowledged.\n✅ #2 acknowledged.\n✅ #3 acknowledged."
        statuses = [r["status"] for r in await w.export()]
        assert statuses == ["acknowledged"] * 3 + ["open"]


async def test_acknowledge_button(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/5")
        query = w.sandbox.press_button(CHAT, BUDI, card.message_id, "ack:1")
        answer = await w.wait(lambda: w.sandbox.callback_answers.get(query["id"]))
        assert answer["text"] == "✅ #1 acknowledged."
        now = await edited(w, card, "Acknowledged")
        assert "Held by: Budi Santoso @budi_mod" in now.text
        record = await w.ticket(1)
        assert (record["status"], record["assignee_id"]) == ("acknowledged", BUDI)
        await w.settled()
        assert len(w.sent()) == 1  # a button answers with a toast, not a message


async def test_removed_and_reject_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg, card = await report(w, "t.me/FakeNews/5")
        query = w.sandbox.press_button(CHAT, ANDI, card.message_id, "rej:1")
        answer = await w.wait(lambda: w.sandbox.callback_answers.get(query["id"]))
        assert answer["text"] == "Give a reason: /reject 1 <reason>"
        assert (await w.ticket(1))["status"] == "open"
        query = w.sandbox.press_button(CHAT, ANDI, card.message_id, "done:1")
        answer = await w.wait(lambda: w.sandbox.callback_answers.get(query["id"]))
        assert answer["text"] == "☑️ #1 closed."
        now = await edited(w, card, "Actioned")
        assert now.buttons() == []
        notice = await w.text_containing("Your report #1")
        assert notice.reply_to == msg["message_id"]
        record = await w.ticket(1)
        assert (record["status"], record["outcome"]) == ("removed", "removed")


# ---- close -------------------------------------------------------------------------------


async def test_done_closes_tells_the_reporter_and_strips_the_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg, card = await report(w, "https://t.me/FakeNews/1")
        await command(w, ANDI, "/ack 1")
        done = w.say(ANDI, "/done 1 taken down at 10:02")
        notice = await w.text_containing("Your report #1")
        assert notice.reply_to == msg["message_id"]
        assert notice.text == (
            "☑️ Your report #1 https://t.me/FakeNews/1: Actioned (removed).\ntaken down at 10:02"
        )
        now = await edited(w, card, "Actioned")
        assert "Status: Actioned — removed" in now.text
        assert "Closed " in now.text and "by Andi Wijaya" in now.text
        assert "Deadline" not in now.text and "On call" not in now.text
        assert now.buttons() == [] and now.reply_markup is None
        # the card and the notice say it all: no echo of the command
        await no_reply(w, done)
        record = await w.ticket(1)
        assert record["status"] == "removed"
        assert record["outcome"] == "removed"
        assert record["closed_at"] is not None
        assert record["assignee_id"] == ANDI
        assert kinds(record) == ["created", "acknowledged", "removed"]
        assert record["events"][-1]["detail"] == "removed: taken down at 10:02"
        # closing again changes nothing
        reply = await command(w, BUDI, "/done 1")
        assert reply.text == "#1 is already closed."
        assert kinds(await w.ticket(1)) == ["created", "acknowledged", "removed"]
        # a closed card's buttons are gone; a stale press changes nothing either
        query = w.sandbox.press_button(CHAT, BUDI, card.message_id, "ack:1", check=False)
        answer = await w.wait(lambda: w.sandbox.callback_answers.get(query["id"]))
        assert answer["text"] == "#1 is already closed."
        assert (await w.ticket(1))["status"] == "removed"


async def test_done_by_someone_who_did_not_ack_takes_the_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        w.say(BUDI, "/done 1")
        await w.text_containing("Your report #1")
        record = await w.ticket(1)
        assert record["assignee_id"] == BUDI
        assert record["acknowledged_at"] == record["closed_at"]


async def test_done_with_each_outcome(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        for n in range(1, 4):
            await report(w, f"t.me/Chan{n}x/1")
        w.say(ANDI, "/done 1 restricted blocked for ID only")
        w.say(ANDI, "/done 2 gone")
        w.say(ANDI, "/done 3 removed")
        notice = await w.text_containing("Your report #1")
        assert "Actioned (restricted in Indonesia)" in notice.text
        assert "blocked for ID only" in notice.text
        notice = await w.text_containing("Your report #2")
        assert "Actioned (already gone)" in notice.text
        notice = await w.text_containing("Your report #3")
        assert "Actioned (removed)" in notice.text
        one, two, three = await w.export()
        assert (one["status"], one["outcome"]) == ("removed", "restricted")
        assert one["events"][-1]["detail"] == "restricted: blocked for ID only"
        assert (two["status"], two["outcome"]) == ("removed", "gone")
        assert (three["status"], three["outcome"]) == ("removed", "removed")


async def test_banned_closes_the_channels_other_open_tickets(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        m1, c1 = await report(w, "t.me/BadChan/1")
        m2, c2 = await report(w, "t.me/badchan/2", user=DEWI)
        _, c3 = await report(w, "t.me/OtherChan/3")
        _, c4 = await report(w, "t.me/BadChan/4")
        w.say(ANDI, "/reject 4 same content as #1")
        await edited(w, c4, "Rejected")
        w.say(ANDI, "/done 1 banned")
        await edited(w, c1, "channel banned")
        await edited(w, c2, "channel banned")
        # both reporters are told, each with a reply to their own report
        n1 = await w.text_containing("Your report #1")
        assert n1.reply_to == m1["message_id"]
        assert "Actioned (channel banned)" in n1.text
        n2 = await w.text_containing("Your report #2")
        assert n2.reply_to == m2["message_id"]
        assert "channel banned (#1)" in n2.text
        records = await w.export()
        assert [(r["status"], r["outcome"]) for r in records] == [
            ("removed", "banned"),
            ("removed", "banned"),
            ("open", None),  # another channel
            ("rejected", "rejected"),  # already closed: left as it was
        ]
        assert records[1]["events"][-1]["detail"] == "banned: channel banned (#1)"
        assert records[1]["events"][-1]["actor_id"] == ANDI
        await w.settled()
        assert w.sandbox.message(CHAT, c3.message_id).edits == []
        assert w.sandbox.message(CHAT, c2.message_id).buttons() == []
        assert not [m for m in w.sent() if "Your report #4" in m.text and "banned" in m.text]


async def test_removed_is_an_alias_of_done(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        await report(w, "t.me/FakeNews/2")
        w.say(BUDI, "/removed 1,2 gone")
        await w.text_containing("Your report #2")
        assert [(r["status"], r["outcome"]) for r in await w.export()] == [
            ("removed", "gone"),
            ("removed", "gone"),
        ]


async def test_reject_needs_a_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/reject 1")
        assert reply.text == "Usage: /reject N reason"
        await w.settled()
        record = await w.ticket(1)
        assert record["status"] == "open"
        assert kinds(record) == ["created"]
        assert w.sandbox.message(CHAT, card.message_id).edits == []


async def test_reject_with_a_reason(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg, card = await report(w, "t.me/NewsChan/1")
        w.say(ANDI, "/reject #1 berita biasa, bukan propaganda")
        now = await edited(w, card, "Rejected")
        assert now.buttons() == []
        notice = await w.text_containing("Your report #1")
        assert notice.reply_to == msg["message_id"]
        assert "Rejected (not actionable)" in notice.text
        assert "berita biasa, bukan propaganda" in notice.text
        record = await w.ticket(1)
        assert (record["status"], record["outcome"]) == ("rejected", "rejected")
        assert record["events"][-1]["kind"] == "rejected"
        assert record["events"][-1]["detail"] == "rejected: berita biasa, bukan propaganda"


# ---- notes, clarification, reopen, assign ------------------------------------------------


async def test_note_is_added_to_the_history(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        reply = await command(w, DEWI, "/note 1 postingan ini juga ada di channel cadangan")
        assert reply.text == "📝 Note added to #1."
        record = await w.ticket(1)
        assert record["status"] == "open"
        last = record["events"][-1]
        assert {"seq", "prev", "hash"} <= set(last)  # its link in the chain (test_proof)
        assert {k: v for k, v in last.items() if k not in ("seq", "prev", "hash")} == {
            "at": record["events"][-1]["at"],
            "actor_id": DEWI,
            "kind": "note",
            "detail": "postingan ini juga ada di channel cadangan",
            "data": {"text": "postingan ini juga ada di channel cadangan"},
        }
        reply = await command(w, DEWI, "/note 1")
        assert reply.text == "Usage: /note N text"


async def test_clarify_pauses_and_the_reporters_reply_resumes(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg, card = await report(w, "t.me/FakeNews/1")
        await command(w, ANDI, "/ack 1")
        before = await w.ticket(1)
        ask = w.say(ANDI, "/clarify 1 Which post exactly, the video or the text?")
        question = await w.text_containing("the moderator asks about #1")
        assert question.reply_to == msg["message_id"]
        assert 'href="tg://user?id=3001"' in (question.html or "")
        assert "Which post exactly, the video or the text?" in question.text
        await edited(w, card, "Waiting for clarification")
        assert "paused, waiting for the reporter" in w.sandbox.message(CHAT, card.message_id).text
        paused = await w.ticket(1)
        assert paused["status"] == "clarification"
        assert paused["events"][-1]["kind"] == "clarification"
        assert paused["events"][-1]["detail"] == "Which post exactly, the video or the text?"
        await no_reply(w, ask)
        # the reporter answers by replying to the question
        answer = w.say(RINA, "The video, posted at 09:14", reply_to=question.message_id)
        resumed = await w.text_containing("The reporter answered #1")
        assert "deadline moved by" in resumed.text
        assert "Andi Wijaya" in resumed.text  # the holder is pinged
        await edited(w, card, "Status: Acknowledged")
        after = await w.ticket(1)
        assert after["status"] == "acknowledged"
        assert after["events"][-1]["kind"] == "clarified"
        assert after["events"][-1]["actor_id"] == RINA
        assert after["events"][-1]["detail"] == "The video, posted at 09:14"
        assert after["paused_seconds"] > 0
        moved = at(after["deadline_at"]) - at(before["deadline_at"])
        assert moved == timedelta(seconds=after["paused_seconds"])
        # the answer is not a report: no hint, no ticket
        await no_reply(w, answer)
        assert len(await w.export()) == 1


async def test_someone_elses_reply_to_the_question_is_only_a_note(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        w.say(ANDI, "/clarify 1 which one?")
        question = await w.text_containing("the moderator asks about #1")
        w.say(DEWI, "I think the second", reply_to=question.message_id)
        await w.settled()
        record = await w.ticket(1)
        assert record["status"] == "clarification"
        assert record["events"][-1]["kind"] == "note"
        assert record["events"][-1]["actor_id"] == DEWI


async def test_clarification_answered_with_note(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        w.say(BUDI, "/clarify 1 which one?")
        await w.text_containing("the moderator asks about #1")
        reply = await command(w, RINA, "/note 1 the second video")
        assert reply.text == "▶️ #1 resumed."
        await w.text_containing("The reporter answered #1")
        record = await w.ticket(1)
        assert record["status"] == "open"  # never acknowledged: back to open
        assert record["assignee_id"] == BUDI  # asking takes the ticket
        assert kinds(record)[-2:] == ["clarification", "clarified"]


async def test_clarify_needs_a_question(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/clarify 1")
        assert reply.text == "Usage: /clarify N question"
        assert (await w.ticket(1))["status"] == "open"


async def test_reopen_own_ticket_and_refused_for_another(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        w.say(ANDI, "/done 1")
        await w.text_containing("Your report #1")
        closed = await w.ticket(1)
        reply = await command(w, DEWI, "/reopen 1 it is back")
        assert reply.text == "#1 is not your report."
        assert (await w.ticket(1))["status"] == "removed"
        reopen = w.say(RINA, "/reopen 1 the post is back online")
        fresh = await w.wait(
            lambda: next(
                (m for m in w.sent() if "Ticket #1" in m.text and m.message_id != card.message_id),
                None,
            )
        )
        assert "Status: Open" in fresh.text
        assert [d for _, d in fresh.buttons()] == ["ack:1", "done:1", "rej:1", "cat:1"]
        await no_reply(w, reopen)
        record = await w.ticket(1)
        assert record["status"] == "open"
        assert record["closed_at"] is None
        assert record["outcome"] is None
        assert record["acknowledged_at"] is None
        assert record["events"][-1]["kind"] == "reopened"
        assert record["events"][-1]["actor_id"] == RINA
        assert record["events"][-1]["detail"] == "the post is back online"
        assert at(record["deadline_at"]) > at(closed["deadline_at"])
        # reopening an open ticket is refused
        reply = await command(w, RINA, "/reopen 1")
        assert reply.text == "#1 is still open."


async def test_reopen_refused_while_the_content_has_a_newer_open_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        w.say(ANDI, "/done 1")
        await w.text_containing("Your report #1")
        _, card = await report(w, "t.me/FakeNews/1", user=DEWI)
        assert "Content is back: earlier ticket #1" in card.text
        reply = await command(w, RINA, "/reopen 1")
        assert reply.text == "The content of #1 is tracked by another open ticket."
        one, two = await w.export()
        assert one["status"] == "removed"
        assert two["status"] == "open" and two["reopened_from"] == 1


async def test_moderator_may_reopen_any_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        w.say(ANDI, "/reject 1 no")
        await edited(w, card, "Rejected")
        w.say(BUDI, "/reopen 1")
        await w.wait(lambda: len([m for m in w.sent() if m.text.startswith("📌 Ticket #1")]) == 2)
        assert (await w.ticket(1))["status"] == "open"


async def test_assign_hands_the_ticket_over(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        _, card = await report(w, "t.me/FakeNews/1")
        await command(w, ANDI, "/ack 1")
        w.say(ANDI, "/assign 1 @budi_mod")
        ping = await w.text_containing("is now held by")
        assert ping.text == "👤 #1 https://t.me/FakeNews/1 is now held by Budi Santoso @budi_mod."
        assert 'href="tg://user?id=1002"' in (ping.html or "")
        await edited(w, card, "Held by: Budi Santoso")
        record = await w.ticket(1)
        assert record["assignee_id"] == BUDI
        assert record["status"] == "acknowledged"
        assert record["events"][-1]["kind"] == "assigned"
        assert record["events"][-1]["detail"] == "@budi_mod"


async def test_assign_refuses_someone_not_a_moderator(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        reply = await command(w, ANDI, "/assign 1 @rina_kominfo")
        assert reply.text == "@rina_kominfo is not a moderator in the roster."
        reply = await command(w, ANDI, "/assign 1")
        assert reply.text == "Usage: /assign N @username"
        reply = await command(w, ANDI, "/assign 1 budi_mod extra")
        assert reply.text == "Usage: /assign N @username"
        assert (await w.ticket(1))["assignee_id"] is None


# ---- errors ------------------------------------------------------------------------------


async def test_unknown_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        for text in ("/ack 7", "/done 7", "/reject 7 spam", "/note 7 hi", "/ticket 7"):
            reply = await command(w, ANDI, text)
            assert reply.text == "There is no ticket #7.", text
        reply = await command(w, RINA, "/reopen #7")
        assert reply.text == "There is no ticket #7."
        assert await w.export() == []


async def test_bad_arguments_get_a_one_line_usage(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        cases = {
            "/ack": "Usage: /ack N… (or reply to a ticket card)",
            "/ack abc": "Usage: /ack N… (or reply to a ticket card)",
            "/ack 1 please": "Usage: /ack N… (or reply to a ticket card)",
            "/done": "Usage: /done N… [removed|banned|restricted|gone] [note]",
            "/reject": "Usage: /reject N reason",
            "/reject 1,2 spam": "Usage: /reject N reason",
            "/note abc": "Usage: /note N text",
            "/reopen": "Usage: /reopen N [reason]",
            "/ticket": "Usage: /ticket N",
            "/ticket one": "Usage: /ticket N",
            "/oncall @budi_mod soon": "Usage: /oncall [@username [duration, e.g. 2h]]",
        }
        for text, usage in cases.items():
            reply = await command(w, ANDI, text)
            assert reply.text == usage, text
            assert "\n" not in reply.text
        record = await w.ticket(1)
        assert record["status"] == "open"
        assert kinds(record) == ["created"]


# ---- queries -----------------------------------------------------------------------------


async def test_ticket_shows_the_card_and_the_history(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        await report(w, "telegram.me/fakenews/1", user=DEWI)
        await command(w, ANDI, "/ack 1")
        await command(w, ANDI, "/note 1 checking")
        detail = await command(w, RINA, "/ticket #1")
        lines = detail.text.split("\n")
        assert lines[0] == "📌 Ticket #1"
        assert "Status: Acknowledged" in detail.text
        assert "Reported 2×" in detail.text
        history = lines[lines.index("History:") + 1 :]
        assert [line.split(" · ")[1] for line in history[:4]] == [
            "created",
            "duplicate",
            "acknowledged",
            "note",
        ]
        assert "Reporter" in history[0]  # not rostered: a mention without a name
        assert "Andi Wijaya" in history[2]
        assert history[3].endswith("checking")
        assert detail.buttons() == []  # the detail is a read-out, not a second card


async def test_open_lists_by_deadline_and_marks_overdue(tmp_path: Path) -> None:
    async with running_bot(tmp_path, ack_deadline=seconds(1), urgent_deadline=seconds(1)) as w:
        await report(w, "t.me/FakeNews/1")
        await report(w, "t.me/FakeNews/2")
        await report(w, "#urgent t.me/FakeNews/3")
        _, card4 = await report(w, "t.me/FakeNews/4")
        w.say(ANDI, "/done 4")
        await edited(w, card4, "Actioned")
        # the urgent ticket goes past its deadline: supervisors hear of it
        await w.text_containing("ESCALATION", chat=SUP_CHAT)
        listing = await command(w, RINA, "/open")
        lines = listing.text.split("\n")
        assert lines[0] == "📋 3 open tickets (nearest deadline first):"
        assert lines[1].startswith("⚠️ #3 https://t.me/FakeNews/3 · 🔴 · Open · ⚠️ OVERDUE by")
        assert lines[2].startswith("#1 https://t.me/FakeNews/1 · Open · ")
        assert lines[3].startswith("#2 https://t.me/FakeNews/2 · Open · ")
        assert len(lines) == 4
        assert "#4" not in listing.text


async def test_open_with_nothing_open(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        reply = await command(w, RINA, "/open")
        assert reply.text == "No open tickets. 👍"


async def test_oncall_shows_who_until_when_and_next(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        reply = await command(w, RINA, "/oncall")
        lines = reply.text.split("\n")
        assert lines[0] == "📟 On call now: Andi Wijaya @andi_mod · +62 811 0000 0001"
        assert lines[1].startswith("until ") and lines[1].endswith("WIB")
        assert lines[2] == "Backup: Budi Santoso @budi_mod · +62 811 0000 0002"
        assert lines[3].startswith("Next: Budi Santoso @budi_mod")


async def test_oncall_override(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        refused = await command(w, RINA, "/oncall @budi_mod 2h")
        assert refused.text == "⛔ This command is not for your role."
        reply = await command(w, ANDI, "/oncall @budi_mod 2h")
        assert reply.text.startswith("📟 On call now: Budi Santoso @budi_mod")
        assert "(manual override)" in reply.text
        _, card = await report(w, "t.me/FakeNews/1")
        assert "On call: Budi Santoso @budi_mod · +62 811 0000 0002" in card.text


async def test_oncall_override_with_an_absurd_duration_is_a_usage_error(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        for text in ("/oncall @budi_mod 99999999d", "/oncall @budi_mod 400d"):
            reply = await command(w, ANDI, text)
            assert reply.text == "Usage: /oncall [@username [duration, e.g. 2h]]"
        reply = await command(w, ANDI, "/oncall")
        assert reply.text.startswith("📟 On call now: Andi Wijaya")
        reply = await command(w, ANDI, "/oncall @budi_mod 30d")
        assert reply.text.startswith("📟 On call now: Budi Santoso")


async def test_help_depends_on_the_role(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        reporter = await command(w, RINA, "/help")
        moderator = await command(w, ANDI, "/help")
        supervisor = await command(w, SARI, "/help")
        assert "/ticket N" in reporter.text and "/reopen N" in reporter.text
        assert "/ack" not in reporter.text and "/stats" not in reporter.text
        assert "/ack N" in moderator.text and "/reject N reason" in moderator.text
        assert "/stats" not in moderator.text
        assert "/ack N" in supervisor.text and "/stats [days]" in supervisor.text
        assert len(reporter.text) < len(moderator.text) < len(supervisor.text)


async def test_indonesian_is_spoken_when_configured(tmp_path: Path) -> None:
    async with running_bot(tmp_path, language="id") as w:
        msg, card = await report(w, "t.me/FakeNews/1")
        assert card.text.startswith("📌 Tiket #1")
        assert "Status: Terbuka" in card.text
        assert "Tenggat: " in card.text
        assert "Piket: Andi Wijaya" in card.text
        assert [label for label, _ in card.buttons()] == [
            "✅ Terima",
            "🗑 Dihapus",
            "✖️ Tolak",
            "🏷 Kategori",
        ]
        reply = await command(w, ANDI, "/ack 1")
        assert reply.text == "✅ #1 diterima."
        await edited(w, card, "Diterima")
        reply = await command(w, ANDI, "/reject 1")
        assert reply.text == "Gunakan: /reject N alasan"
        w.say(ANDI, "/done 1 diblokir")
        notice = await w.text_containing("Laporan Anda #1")
        assert notice.reply_to == msg["message_id"]
        assert "Ditindak (channel diblokir)" in notice.text
        assert (await w.ticket(1))["outcome"] == "banned"
        reply = await command(w, RINA, "/ack 1")
        assert reply.text == "⛔ Perintah ini bukan untuk peran Anda."
        reply = await command(w, ANDI, "/ticket 9")
        assert reply.text == "Tiket #9 tidak ada."
        helptext = await command(w, RINA, "/help")
        assert "Teruskan postingan" in helptext.text
        hint_msg = w.say(RINA, "https://example.com/a")
        hint = await w.reply_to(hint_msg["message_id"])
        assert hint.text.startswith("ℹ️ Tidak ada tautan Telegram")


async def test_a_reply_to_the_first_of_two_questions_still_answers(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await report(w, "t.me/FakeNews/1")
        w.say(ANDI, "/clarify 1 which one?")
        first = await w.text_containing("which one?")
        w.say(BUDI, "/clarify 1 and since when?")
        await w.text_containing("and since when?")
        w.say(RINA, "The second, since Monday", reply_to=first.message_id)
        await w.text_containing("The reporter answered #1")
        record = await w.ticket(1)
        assert record["status"] == "open"
        assert record["events"][-1]["kind"] == "clarified"
