"""Reports become tickets, moderators act, the export shows it: through the sandbox."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import ANDI, CHAT, RINA, running_bot


async def test_report_gets_a_card_with_on_call_and_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "Propaganda: https://t.me/FakeNews/123")
        card = await w.reply_to(msg["message_id"])
        assert "#1" in card.text
        assert "https://t.me/FakeNews/123" in card.text
        assert "Andi Wijaya" in card.text and "+62 811 0000 0001" in card.text
        assert [d for _, d in card.buttons()] == ["ack:1", "done:1", "rej:1", "cat:1"]
        [record] = await w.export()
        assert record["link"] == "https://t.me/FakeNews/123"
        assert record["status"] == "open"
        assert record["reporter_id"] == RINA
        assert [e["kind"] for e in record["events"]] == ["created"]


async def test_ack_button_edits_the_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "t.me/FakeNews/5")
        card = await w.reply_to(msg["message_id"])
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "ack:1")
        edited = await w.wait(lambda: (m := w.sandbox.message(CHAT, card.message_id)).edits and m)
        assert "Acknowledged" in edited.text
        record = await w.ticket(1)
        assert record["status"] == "acknowledged"
        assert record["assignee_id"] == ANDI
