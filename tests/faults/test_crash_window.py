"""A crash between two writes of one update must not lose the update (deterministic).

Some updates write twice: a reply to a bot message in the liaison chat first looks for a
clarification to answer (a transaction), then files the report (another); a rostered
person's private command first records that they can get direct messages, then acts.
Each transaction used to record the update as handled, so a crash between the two left
the update "handled" with only half its effect, and the restarted bot skipped it when
Telegram delivered it again. Here the crash is a cancelled bot task (nothing more runs,
as under SIGKILL), held at the second write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.sandbox.server import Sandbox
from tests.e2e.harness import ANDI, RINA, World, populate, running_bot
from tests.faults.procs import settled


async def crash_inside(world: World, method: str) -> asyncio.Event:
    """Make ``services.<method>`` block forever once entered; the event says it was."""
    entered = asyncio.Event()
    services = world.services

    async def stuck(*args: Any, **kw: Any) -> Any:
        entered.set()
        await asyncio.Event().wait()

    setattr(services, method, stuck)
    return entered


async def test_a_reply_report_survives_a_crash_between_its_writes(tmp_path: Path) -> None:
    sandbox = Sandbox(group_limit=None)
    populate(sandbox)
    await sandbox.start()
    try:
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            first = w.say(RINA, "https://t.me/FakeNews/1")
            card = await w.reply_to(first["message_id"])
            await settled(w)
            entered = await crash_inside(w, "report")
            # a reporter answers the card with one more link: a reply to a bot message
            w.say(RINA, "and this one t.me/FakeNews/2", reply_to=card.message_id)
            await asyncio.wait_for(entered.wait(), 8)
            w.task.cancel()  # the crash: nothing after this instant is written
        assert sandbox.pending_updates() == 1, "the update was confirmed before its effect"
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            await settled(w)
            links = [r["link"] for r in await w.export()]
            assert links == ["https://t.me/FakeNews/1", "https://t.me/FakeNews/2"]
    finally:
        await sandbox.stop()


async def test_a_private_command_survives_a_crash_between_its_writes(tmp_path: Path) -> None:
    sandbox = Sandbox(group_limit=None)
    populate(sandbox)
    await sandbox.start()
    try:
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            first = w.say(RINA, "https://t.me/FakeNews/1")
            await w.reply_to(first["message_id"])
            await settled(w)
            entered = await crash_inside(w, "acknowledge")
            w.say(ANDI, "/ack 1", chat=ANDI)  # the on-call moderator, in a private chat
            await asyncio.wait_for(entered.wait(), 8)
            w.task.cancel()
        assert sandbox.pending_updates() == 1, "the update was confirmed before its effect"
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            await settled(w)
            [ticket] = await w.export()
            assert ticket["status"] == "acknowledged"
            assert ticket["assignee_id"] == ANDI
            assert any(m.reply_to is not None for m in w.sent(ANDI)), "the /ack got no answer"
    finally:
        await sandbox.stop()
