"""A moderator's 👍 on a card acknowledges it, where the bot is an admin (Telegram tells bots
about reactions only there); anyone else's reaction changes nothing and says nothing."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import ANDI, CHAT, RINA, running_bot, started_sandbox


async def test_a_moderators_reaction_acknowledges_the_card(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        sandbox.set_admin(CHAT, sandbox.bot_user["id"])
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            card = await w.reply_to(w.say(RINA, "t.me/react_case/1")["message_id"])
            w.sandbox.react(CHAT, RINA, card.message_id, "👍")  # a reporter: nothing
            w.sandbox.react(CHAT, ANDI, card.message_id, "🔥")  # not the acknowledge one
            await w.settled()
            assert (await w.ticket(1))["status"] == "open"
            before = len(w.sent())
            w.sandbox.react(CHAT, ANDI, card.message_id, "🔥", "👍")
            await w.wait(lambda: "Acknowledged" in w.sandbox.message(CHAT, card.message_id).text)
            record = await w.ticket(1)
            assert record["status"] == "acknowledged"
            assert record["assignee_id"] == ANDI
            ack = [e for e in record["events"] if e["kind"] == "acknowledged"]
            assert [e["actor_id"] for e in ack] == [ANDI]
            await w.settled()
            assert len(w.sent()) == before  # said nothing: the card's edit shows it


async def test_without_admin_rights_reactions_are_not_seen(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        card = await w.reply_to(w.say(RINA, "t.me/react_case/2")["message_id"])
        w.sandbox.react(CHAT, ANDI, card.message_id, "👍")
        await w.settled()
        assert (await w.ticket(1))["status"] == "open"


async def test_the_reaction_can_be_turned_off(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        sandbox.set_admin(CHAT, sandbox.bot_user["id"])
        async with running_bot(tmp_path, sandbox=sandbox, ack_reaction="") as w:
            card = await w.reply_to(w.say(RINA, "t.me/react_case/3")["message_id"])
            w.sandbox.react(CHAT, ANDI, card.message_id, "👍")
            await w.settled()
            assert (await w.ticket(1))["status"] == "open"
