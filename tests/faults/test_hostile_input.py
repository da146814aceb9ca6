"""Hypothesis-generated hostile updates pushed through the real application.

One bot serves every example (a bot per example would cost a second each). Each example
is pushed as a raw update and must be confirmed; the bot must still run; a report may
only create tickets for links that genuinely were in it. At the end: every notification
delivered, no traceback text in anything the bot sent, no error logged.

The test is synchronous and drives its own event loop, so Hypothesis calls a plain
function per example (pytest-asyncio is not involved).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from bot.sandbox.server import Sandbox
from bot.sender import Limits
from tests.e2e.harness import ANDI, CHAT, EVE, RINA, SUP_CHAT, World, running_bot
from tests.faults.hostile import Example, Press, hostile
from tests.faults.procs import TRACEBACK, query, settled, until

FAST = Limits(group_messages=10_000, group_window=1.0, min_gap=0.0, max_backoff=2.0)


@dataclass
class Run:
    world: World
    chats: set[int] = field(default_factory=lambda: {CHAT, SUP_CHAT, RINA, ANDI, EVE})
    examples: int = 0
    reports: int = 0
    tickets: int = 0

    @property
    def sandbox(self) -> Sandbox:
        return self.world.sandbox

    @property
    def db(self) -> Path:
        return Path(self.world.settings.database)

    async def push(self, example: Example | Press) -> None:
        sandbox = self.sandbox
        if isinstance(example, Press):
            cards = [m for m in sandbox.messages(CHAT) if not m.deleted]
            sandbox.press_button(
                CHAT, example.user, cards[-1].message_id, example.data, check=False
            )
        else:
            if example.new_group is not None:
                sandbox.add_chat(example.new_group, "Somewhere else", "group")
                self.chats.add(example.new_group)
            sandbox.push_update(example.update)
        self.examples += 1
        await sandbox.wait_for(lambda: sandbox.pending_updates() == 0, 15, what="confirmed")
        if self.world.task.done():
            raise AssertionError(f"the bot stopped: {self.world.task}")
        if isinstance(example, Example) and example.chat_id == CHAT and example.message_id:
            rows = query(
                self.db,
                "SELECT t.link FROM reports r JOIN tickets t ON t.id = r.ticket_id "
                "WHERE r.chat_id = ? AND r.message_id = ?",
                (CHAT, example.message_id),
            )
            self.reports += bool(rows)
            links = [r[0] for r in rows]
            bad = [link for link in links if not example.may_create(link)]
            assert not bad, f"tickets {bad} from {example.update!r} (allowed {example.allowed})"


@contextlib.asynccontextmanager
async def started(tmp_path: Path) -> AsyncIterator[Run]:
    async with running_bot(tmp_path, limits=FAST) as w:
        for user in (RINA, ANDI, EVE):
            w.sandbox.start_private(user)  # private chats where the bot may answer
        first = w.say(RINA, "https://t.me/GenuineChan/1")
        await w.reply_to(first["message_id"])  # a card whose buttons the examples press
        yield Run(w)


async def finish(run: Run) -> None:
    sandbox = run.sandbox
    await sandbox.wait_for(lambda: sandbox.pending_updates() == 0, 15)
    await until(
        lambda: not query(run.db, "SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"),
        60,
        "every notification delivered",
    )
    assert not run.world.task.done()
    links = [r[0] for r in query(run.db, "SELECT link FROM tickets")]
    run.tickets = len(links)
    assert all(link is None or link.startswith("https://t.me/") for link in links), links
    sent = [m for chat in run.chats for m in sandbox.messages(chat, include_deleted=True)]
    assert not [m.text for m in sent if TRACEBACK in m.text or "Traceback" in (m.html or "")]
    failed = query(run.db, "SELECT chat_id, payload, error FROM outbox WHERE state != 'sent'")
    # a refused direct message (403) is the only acceptable failure
    assert all(str(r["error"]).startswith("403") for r in failed), [tuple(r) for r in failed]


def run_examples(tmp_path: Path, caplog: pytest.LogCaptureFixture, count: int) -> Run:
    caplog.set_level(logging.WARNING)
    loop = asyncio.new_event_loop()
    context = started(tmp_path)
    run = loop.run_until_complete(context.__aenter__())
    try:

        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            derandomize=count <= 1000,  # the quick run is the same every time
            suppress_health_check=list(HealthCheck),
        )
        @given(hostile)
        def one(example: Example | Press) -> None:
            loop.run_until_complete(run.push(example))

        one()
        loop.run_until_complete(finish(run))
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, "\n".join(
        f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in errors[:5]
    )
    skipped = [r for r in caplog.records if "malformed update" in r.getMessage()]
    print(
        f"hostile: {run.examples} updates, {run.reports} became reports, {run.tickets} tickets, "
        f"{len(skipped)} malformed updates skipped with a warning"
    )
    return run


@pytest.mark.timeout(150)
def test_hostile_updates(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    run_examples(tmp_path, caplog, 500)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_hostile_updates_many(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    run_examples(tmp_path, caplog, 10_000)


@pytest.mark.timeout(60)
async def test_a_stale_button_press_is_not_an_unhandled_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(tmp_path, limits=FAST) as w:
        report = w.say(RINA, "https://t.me/FakeNews/1")
        card = await w.reply_to(report["message_id"])
        w.sandbox.fail_next(
            "answerCallbackQuery",
            400,
            description="Bad Request: query is too old and response timeout expired or "
            "query ID is invalid",
        )
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "ack:1")
        await settled(w)
        assert (await w.ticket(1))["status"] == "acknowledged"  # the press itself counted
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.timeout(60)
async def test_an_entity_splitting_an_emoji_does_not_lose_the_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(tmp_path, limits=FAST) as w:
        text = "😀 lihat https://t.me/GenuineChan/7"
        # offset 1 is the middle of the emoji (two UTF-16 units)
        w.say(RINA, text, entities=[{"type": "url", "offset": 1, "length": 5}])
        await settled(w)
        links = [r["link"] for r in await w.export()]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert links == ["https://t.me/GenuineChan/7"], (links, errors)
    assert not errors


@pytest.mark.parametrize("data", ["done:" + "9" * 25, "ack:²"], ids=["huge", "superscript"])
@pytest.mark.timeout(60)
async def test_forged_button_data_is_refused_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(tmp_path, limits=FAST) as w:
        report = w.say(RINA, "https://t.me/FakeNews/1")
        card = await w.reply_to(report["message_id"])
        query = w.sandbox.press_button(CHAT, ANDI, card.message_id, data, check=False)
        await settled(w)
        assert str(query["id"]) in w.sandbox.callback_answers  # answered, not left spinning
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors
