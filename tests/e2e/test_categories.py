"""Categories through the sandbox: a tag sets it, the card names it, /category changes it
and recomputes the deadlines (one already past escalates at once)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import ANDI, CHAT, RINA, SUP_CHAT, running_bot


async def test_a_tag_sets_the_category_and_the_card_names_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "https://t.me/kasino/12 #JUDOL tolong")
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/kasino/12" in card.text
        assert "Category: Online gambling" in card.text
        assert "Deadline:" in card.text
        record = await w.ticket(1)
        assert record["category"] == "gambling"
        created = record["events"][0]["data"]
        assert (created["category"], created["agreed_seconds"], created["legal_seconds"]) == (
            "gambling",
            4 * 3600,
            4 * 3600,
        )
        untagged = w.say(RINA, "t.me/kasino/13")
        card = await w.reply_to(untagged["message_id"])
        assert "Category: Other" in card.text
        assert (await w.ticket(2))["category"] == "other"


async def test_category_command(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "t.me/kasino/12")
        card = await w.reply_to(msg["message_id"])
        w.say(ANDI, "/category 1 #teror")  # the card's edit shows it: no echo
        edited = await w.wait(
            lambda: "Terrorism" in (m := w.sandbox.message(CHAT, card.message_id)).text and m
        )
        assert "https://t.me/kasino/12" in edited.text
        record = await w.ticket(1)
        assert record["category"] == "terrorism"
        last = record["events"][-1]
        assert last["kind"] == "categorized"
        assert last["data"] == {
            "previous": "other",
            "category": "terrorism",
            "agreed_seconds": 3600,
            "legal_seconds": 4 * 3600,
        }
        bad = await w.reply_to(w.say(ANDI, "/category 1 nope")["message_id"])
        assert bad.text == 'No category "nope". Use a key or one of its tags.'
        usage = await w.reply_to(w.say(ANDI, "/category 1")["message_id"])
        assert usage.text.count("\n") == 0 and "/category N key" in usage.text
        refused = await w.reply_to(w.say(RINA, "/category 1 judol")["message_id"])
        assert "Terrorism" not in refused.text
        assert (await w.ticket(1))["category"] == "terrorism"


async def test_a_deadline_already_past_escalates_at_once(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[category]]\nkey = "other"\nname = { id = "Lainnya", en = "Other" }\nlegal = "24h"\n'
        '[[category]]\nkey = "fast"\nname = { id = "Cepat", en = "Fast" }\n'
        'tags = ["cepat"]\nagreed = "1s"\nlegal = "1s"\n',
        encoding="utf-8",
    )
    async with running_bot(tmp_path, LIAISON_POLICY=str(policy)) as w:
        msg = w.say(RINA, "t.me/kasino/12")
        await w.reply_to(msg["message_id"])
        await w.reply_to(w.say(ANDI, "/ack 1")["message_id"])
        w.say(ANDI, "/category 1 fast")
        overdue = await w.wait(
            lambda: [m for m in w.sandbox.messages(SUP_CHAT) if "ESCALATION" in m.text] or None,
            within=5,
        )
        assert "#1" in overdue[0].text


async def test_the_category_button_swaps_the_keyboard_and_sets_the_category(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "t.me/kasino/12")
        card = await w.reply_to(msg["message_id"])
        assert card.buttons()[3] == ("🏷 Category", "cat:1")
        main = card.buttons()

        def shows(data: str) -> object:
            m = w.sandbox.message(CHAT, card.message_id)
            return data in [d for _, d in m.buttons()] and m

        # anyone else: the refusal toast, and the keyboard stays
        refused = w.sandbox.press_button(CHAT, RINA, card.message_id, "cat:1")
        answer = await w.wait(lambda: w.sandbox.callback_answers.get(refused["id"]))
        assert answer["text"] == "⛔ This command is not for your role."
        assert w.sandbox.message(CHAT, card.message_id).buttons() == main

        # [Category]: the list, one button per category, then [Back]
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "cat:1")
        listed = await w.wait(lambda: shows("catback:1"))
        data = [d for _, d in listed.buttons()]
        assert data[0] == "cat:1:terrorism" and data[-2:] == ["cat:1:other", "catback:1"]
        assert len(data) == 9 and all(len(d.encode()) <= 64 for d in data)
        assert ("Online gambling", "cat:1:gambling") in listed.buttons()
        assert "Category: Other" in listed.text  # only the buttons changed

        # [Back]: the card's buttons again
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "catback:1")
        back = await w.wait(lambda: shows("cat:1"))
        assert back.buttons() == main
        assert (await w.ticket(1))["category"] == "other"

        # a category: set as /category sets it; a non-moderator's press is refused
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "cat:1")
        await w.wait(lambda: shows("catback:1"))
        refused = w.sandbox.press_button(CHAT, RINA, card.message_id, "cat:1:gambling")
        answer = await w.wait(lambda: w.sandbox.callback_answers.get(refused["id"]))
        assert answer["text"] == "⛔ This command is not for your role."
        assert (await w.ticket(1))["category"] == "other"
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "cat:1:terrorism")
        done = await w.wait(
            lambda: (
                "Terrorism" in (m := w.sandbox.message(CHAT, card.message_id)).text
                and "cat:1" in [d for _, d in m.buttons()]
                and m
            )
        )
        assert done.buttons() == main
        record = await w.ticket(1)
        assert record["category"] == "terrorism"
        assert record["events"][-1]["kind"] == "categorized"
        assert record["events"][-1]["actor_id"] == ANDI


async def test_forged_category_data_matches_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "t.me/kasino/12")
        card = await w.reply_to(msg["message_id"])
        for data in ("cat:1:Terrorism", "cat:1:x;drop", "cat:", "catback:1:other"):
            press = w.sandbox.press_button(CHAT, ANDI, card.message_id, data, check=False)
            answer = await w.wait(lambda p=press: w.sandbox.callback_answers.get(p["id"]))
            assert not answer.get("text")
        await w.settled()
        assert (await w.ticket(1))["category"] == "other"
