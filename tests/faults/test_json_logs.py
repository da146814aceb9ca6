"""LIAISON_LOG_FORMAT=json: one JSON object a line, the token still masked."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from bot.__main__ import setup_logging
from tests.e2e.harness import ANDI
from tests.faults.procs import bot_process, new_sandbox
from tests.faults.test_secrets import SECRET, TOKEN, flow, leaks, provoke

KEYS = {"time", "level", "logger", "message", "exception"}


@pytest.mark.timeout(120)
async def test_the_command_line_bot_logs_json_lines(tmp_path: Path) -> None:
    sandbox = new_sandbox(TOKEN)
    await sandbox.start()
    try:
        env = {"LIAISON_BOT_TOKEN": TOKEN, "LIAISON_LOG_FORMAT": "json"}
        async with bot_process(sandbox, tmp_path / "bot", env=env) as bot:
            sandbox.start_private(ANDI)
            await bot.start()
            provoke(sandbox)
            await flow(sandbox, 60)
            await bot.wait_for(lambda: bot.log_matches("400 from Telegram"), 30, "a 400 logged")
            assert await bot.stop() == 0
        lines = [line for line in bot.lines if not line.startswith("-----")]
        entries = [json.loads(line) for line in lines]  # every line is one JSON object
        assert entries and all(set(e) == KEYS for e in entries)
        levels = {e["level"] for e in entries}
        assert {"WARNING", "ERROR"} <= levels, levels
        assert any(e["logger"] == "bot.sender" for e in entries)
        assert not [line for line in lines if leaks(line)]
    finally:
        await sandbox.stop()


def test_an_exception_is_one_field_and_the_token_is_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging(TOKEN, fmt="json")
        log = logging.getLogger("liaison.test")
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe refused")
        except RuntimeError:
            log.exception("calling %s failed", f"bot{TOKEN}")
        log.info("plain")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "ERROR" and first["logger"] == "liaison.test"
    assert first["message"] == "calling bot[token] failed"
    assert first["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: https://api.telegram.org/bot[token]/getMe refused" in first["exception"]
    assert SECRET not in stream.getvalue()
    assert second == {**second, "message": "plain", "exception": None, "level": "INFO"}
    assert second["time"].endswith("+00:00")
