"""The bot token never leaves: not in any log line at any level, not in the chat, not in exports.

The bot logs through ``bot.__main__.setup_logging``. Here it runs as ``liaison-bot run``
(its standard error at INFO, the only level the command line offers) and in-process with
the same logging set up at DEBUG, while Telegram misbehaves in every way that gets logged:
5xx, 429, 400, a failing getUpdates, an expired callback query, and finally a token
Telegram rejects.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from bot.__main__ import setup_logging
from bot.app import Runtime, build_application, serve
from bot.clock import SystemClock
from bot.sandbox.server import Sandbox
from bot.sender import Limits
from tests.e2e.harness import (
    ANDI,
    CHAT,
    RINA,
    SARI,
    SUP_CHAT,
    make_roster,
    make_settings,
    populate,
    running_bot,
)
from tests.faults.procs import ROOT, TRACEBACK, bot_process, new_sandbox, settled

TOKEN = "7654321:AAH-s3cr3tT0ken_zQx9LmNoPqRsTuVwXyZ012"
SECRET = TOKEN.split(":", 1)[1]
FAST = Limits(group_messages=10_000, group_window=1.0, min_gap=0.0, max_backoff=2.0)


def leaks(text: str) -> bool:
    return SECRET in text or SECRET.lower() in text.lower()


def everything_sent(sandbox: Sandbox, chats: tuple[int, ...]) -> Iterator[str]:
    for chat in chats:
        for m in sandbox.messages(chat, include_deleted=True):
            yield m.text
            yield m.html or ""
            yield " ".join(m.edits)
            if m.file_bytes:
                yield m.file_bytes.decode("utf-8", "replace")


def provoke(sandbox: Sandbox) -> None:
    """Faults that make the bot log warnings and errors."""
    sandbox.fail_next("getUpdates", 502)
    sandbox.fail_next("sendMessage", 500)
    sandbox.fail_next("sendMessage", 429, retry_after=1)
    sandbox.fail_next("editMessageText", 502)


async def flow(sandbox: Sandbox, wait: float) -> None:
    """Reports, commands, a button, an export in chat, and a refused direct message."""
    first = sandbox.send_text(CHAT, RINA, "Propaganda https://t.me/FakeNews/1")
    card = await sandbox.wait_for(
        lambda: next((m for m in sandbox.messages(CHAT) if m.reply_to == first["message_id"]), 0),
        wait,
    )
    sandbox.send_text(CHAT, RINA, f"the token is {TOKEN}? t.me/FakeNews/2")
    sandbox.fail_next("sendMessage", 400, description="Bad Request: provoked")
    sandbox.send_text(CHAT, RINA, "/ticket 1")
    sandbox.press_button(CHAT, ANDI, card.message_id, "ack:1")
    sandbox.fail_next("answerCallbackQuery", 400, description="Bad Request: query is too old")
    sandbox.press_button(CHAT, RINA, card.message_id, "done:1")
    sandbox.send_text(SUP_CHAT, SARI, "/export")
    sandbox.send_text(SUP_CHAT, SARI, "/stats")
    sandbox.send_text(ANDI, ANDI, "/oncall")
    await sandbox.wait_for(lambda: sandbox.pending_updates() == 0, wait)
    await sandbox.wait_for(
        lambda: any(m.kind == "document" for m in sandbox.messages(SUP_CHAT)), wait
    )


@pytest.mark.timeout(120)
async def test_the_command_line_bot_never_shows_the_token(tmp_path: Path) -> None:
    sandbox = new_sandbox(TOKEN)
    await sandbox.start()
    try:
        env = {"LIAISON_BOT_TOKEN": TOKEN}  # kept when the sandbox changes its own below
        async with bot_process(sandbox, tmp_path / "bot", env=env) as bot:
            sandbox.start_private(ANDI)
            await bot.start()
            provoke(sandbox)
            await flow(sandbox, 60)
            await bot.wait_for(lambda: bot.log_matches("400 from Telegram"), 30, "a 400 logged")
            assert await bot.stop() == 0
            for form in ("json", "csv"):
                code, out, err = await bot.cli("export", "--format", form)
                assert code == 0, err
                assert "FakeNews/1" in out
                # a token pasted into a report is the reporter's text: kept as evidence,
                # which the export leaves out (tickets and history only)
                assert not leaks(out + err)

            sandbox.token = "7654321:a-different-token"
            await bot.start(wait=False)
            code = await bot.wait_exit(30)
            assert code != 0
            assert bot.log_matches(r"(?i)token"), bot.log()
        log = bot.log()
        assert "WARNING" in log and "ERROR" in log, log
        assert not leaks(log), [line for line in bot.lines if leaks(line)]
        assert TRACEBACK not in log.split("----- run 2")[-1], "a start-up failure is one line"
        chats = (CHAT, SUP_CHAT, ANDI)
        assert not [t for t in everything_sent(sandbox, chats) if leaks(t)]
    finally:
        await sandbox.stop()


@pytest.mark.timeout(60)
async def test_debug_logging_in_process_never_shows_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")}
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    setup_logging(TOKEN, logging.DEBUG)
    root.addHandler(Keep())  # after the app's handler, so it sees what that one printed
    sandbox = Sandbox(TOKEN, group_limit=None)
    populate(sandbox)
    await sandbox.start()
    try:
        sandbox.start_private(ANDI)
        async with running_bot(tmp_path, sandbox=sandbox, limits=FAST) as w:
            provoke(sandbox)
            await flow(sandbox, 30)
            await settled(w)
        sandbox.token = "7654321:a-different-token"
        settings = make_settings(sandbox, tmp_path / "liaison.db", bot_token=TOKEN)
        app = build_application(Runtime(settings, make_roster(), SystemClock(), FAST))
        try:
            with pytest.raises(InvalidToken):
                await serve(app, poll_timeout=2)
        finally:
            await app.bot.shutdown()  # initialize failed half-way: its HTTP client is open
    finally:
        await sandbox.stop()
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, value in noisy.items():
            logging.getLogger(name).setLevel(value)
    output = stream.getvalue()
    assert "DEBUG" in output and len(records) > 50
    assert output.count("Calling Bot API endpoint") > 15  # the calls of the flow were logged
    assert not leaks(output), [line for line in output.splitlines() if leaks(line)][:5]
    assert "bot[token]" in output  # PTB logs its API URL at DEBUG: masked
    assert not [r.getMessage() for r in records if leaks(r.getMessage())][:5]
    assert ROOT.exists()
