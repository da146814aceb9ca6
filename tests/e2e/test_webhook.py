"""Webhook mode end to end: the sandbox posts updates to the bot's endpoint as Telegram does.

The bot sets its webhook (URL, secret, the update kinds polling asks for) and answers
each delivery 200 only once the update's effect is committed: reports, button presses and
commands work as in polling; a request without the secret changes nothing; a storage
failure answers 500 and the redelivery succeeds; switching modes loses nothing.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError
from tests.e2e.harness import (
    ANDI,
    CHAT,
    RINA,
    WEBHOOK_SECRET,
    World,
    make_settings,
    running_bot,
    started_sandbox,
    webhook_settings,
)


def links(w: World) -> list[str]:
    with sqlite3.connect(w.settings.database) as db:
        return [r[0] for r in db.execute("SELECT link FROM tickets ORDER BY id")]


async def post(w: World, body: bytes | io.BytesIO, secret: str | None) -> tuple[int, str]:
    """One request to the bot's webhook, as someone other than Telegram might send it."""
    assert w.settings.webhook_url is not None
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(w.settings.webhook_url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_reports_buttons_and_commands_arrive_by_webhook(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **webhook_settings()) as w:
        [(_, params)] = [c for c in w.sandbox.calls if c[0] == "setWebhook"]
        assert params["secret_token"] == WEBHOOK_SECRET
        assert "message_reaction" in params["allowed_updates"]
        msg = w.say(RINA, "Propaganda: https://t.me/FakeNews/123")
        card = await w.reply_to(msg["message_id"])
        assert "#1" in card.text and "https://t.me/FakeNews/123" in card.text
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "ack:1")
        edited = await w.wait(lambda: (m := w.sandbox.message(CHAT, card.message_id)).edits and m)
        assert "Acknowledged" in edited.text
        w.say(ANDI, "/done 1")
        await w.wait(lambda: "Closed" in w.sandbox.message(CHAT, card.message_id).text)
        record = await w.ticket(1)
        assert record["status"] == "removed"  # /done: Telegram removed the post
        await w.settled()
        assert w.sandbox.call_count("getUpdates") == 0  # no polling in webhook mode
        assert {d.status for d in w.sandbox.delivered()} == {200}


async def test_a_wrong_or_missing_secret_gets_403_and_changes_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **webhook_settings()) as w:
        update = {
            "update_id": 9000,
            "message": {
                "message_id": 77,
                "date": 1767225600,
                "chat": {"id": CHAT, "type": "supergroup", "title": "liaison"},
                "from": {"id": RINA, "is_bot": False, "first_name": "Rina"},
                "text": "https://t.me/FakeNews/666",
            },
        }
        body = json.dumps(update).encode()
        assert (await post(w, body, None))[0] == 403
        assert (await post(w, body, "not-the-secret"))[0] == 403
        assert (await post(w, b"{not json", WEBHOOK_SECRET))[0] == 400
        assert (await post(w, io.BytesIO(b"x" * (2 * 1024 * 1024)), WEBHOOK_SECRET))[0] == 413
        assert links(w) == []
        assert w.sent() == []
        # the same update with the secret is taken, once, however often it comes
        assert (await post(w, body, WEBHOOK_SECRET))[0] == 200
        assert (await post(w, body, WEBHOOK_SECRET))[0] == 200
        await w.settled()
        assert links(w) == ["https://t.me/FakeNews/666"]
        assert len(w.sent()) == 1


async def test_a_storage_failure_answers_500_and_the_redelivery_succeeds(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **webhook_settings()) as w:
        w.sandbox.webhook_backoff = (0.2, 0.5)
        first = w.say(RINA, "https://t.me/FakeNews/1")
        await w.reply_to(first["message_id"])
        await w.settled()
        with sqlite3.connect(w.settings.database, timeout=10) as lock:
            lock.execute("BEGIN EXCLUSIVE")  # longer than the bot's busy timeout
            w.say(RINA, "https://t.me/FakeNews/2")
            await w.wait(lambda: w.sandbox.delivered(500), within=20)
            assert w.sandbox.pending_updates() == 1  # not confirmed
            lock.rollback()
        second = await w.text_containing("FakeNews/2", within=20)
        assert "#2" in second.text
        await w.settled()
        assert links(w) == ["https://t.me/FakeNews/1", "https://t.me/FakeNews/2"]
        assert [m.text.count("FakeNews/2") for m in w.sent() if "FakeNews/2" in m.text] == [1]


async def test_switching_between_polling_and_webhook_loses_nothing(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        hook = webhook_settings()
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            await w.reply_to(w.say(RINA, "https://t.me/FakeNews/1")["message_id"])
            await w.settled()
        sandbox.send_text(CHAT, RINA, "https://t.me/FakeNews/2")  # while no bot runs
        async with running_bot(tmp_path, sandbox=sandbox, **hook) as w:
            await w.text_containing("FakeNews/2")
            w.say(RINA, "https://t.me/FakeNews/3")
            await w.text_containing("FakeNews/3")
            await w.settled()
        sandbox.send_text(CHAT, RINA, "https://t.me/FakeNews/4")  # the webhook is still set
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            assert sandbox.webhook_url == ""  # polling removed it, kept its updates
            await w.text_containing("FakeNews/4")
            await w.settled()
            assert links(w) == [f"https://t.me/FakeNews/{n}" for n in (1, 2, 3, 4)]
            cards = [m for m in w.sent() if m.text.startswith("📌")]
            assert len(cards) == 4


async def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        hook = webhook_settings()
        del hook["webhook_secret"]
        settings = make_settings(sandbox, tmp_path / "liaison.db", **hook)
        with pytest.raises(ConfigError, match=r"^LIAISON_WEBHOOK_SECRET is required"):
            settings.require_run()


async def test_healthz_counts_webhook_checks_and_deliveries_as_progress(tmp_path: Path) -> None:
    async with running_bot(tmp_path, http_listen="127.0.0.1:0", **webhook_settings()) as w:
        await w.reply_to(w.say(RINA, "https://t.me/FakeNews/9")["message_id"])
        async with aiohttp.ClientSession() as session, session.get(w.http_url + "/healthz") as r:
            assert r.status == 200, await r.text()
