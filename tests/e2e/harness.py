"""The real application, over PTB's HTTP stack, against the sandbox Bot API on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.app import Runtime, build_application, serve
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import LiaisonApp
from bot.domain.roster import Roster
from bot.export import load_records
from bot.roster_file import parse_roster
from bot.sandbox.server import Sandbox, SentMessage
from bot.sender import Limits

T = TypeVar("T")

CHAT = -1001500000001
SUP_CHAT = -1001500000002
ANDI, BUDI, SARI = 1001, 1002, 2001  # moderators, supervisor
RINA, DEWI, EVE = 3001, 3002, 4001  # reporters (ministry staff), a stranger

ROSTER = """
[[person]]
name = "Andi Wijaya"
telegram_id = 1001
username = "andi_mod"
phone = "+62 811 0000 0001"
roles = ["moderator"]

[[person]]
name = "Budi Santoso"
telegram_id = 1002
username = "budi_mod"
phone = "+62 811 0000 0002"
roles = ["moderator"]

[[person]]
name = "Sari Dewi"
telegram_id = 2001
username = "sari_lead"
phone = "+62 811 0000 0009"
roles = ["supervisor"]

[rotation]
start = {start}
shift = "{shift}"
order = {order}
"""


def make_roster(
    *,
    start: str = "2026-01-01T00:00:00+00:00",
    shift: str = "10000h",
    order: str = '["andi_mod", "budi_mod"]',
) -> Roster:
    """The test roster: Andi on call (a very long shift) unless told otherwise."""
    return parse_roster(
        ROSTER.replace("{start}", start).replace("{shift}", shift).replace("{order}", order)
    )


@dataclass
class World:
    """A running bot plus the sandbox it talks to."""

    sandbox: Sandbox
    app: LiaisonApp
    settings: Settings
    task: asyncio.Task[None]

    @property
    def services(self) -> Any:
        return self.app.bot_data.services

    def say(self, user: int, text: str, chat: int = CHAT, **kw: Any) -> dict[str, Any]:
        return self.sandbox.send_text(chat, user, text, **kw)

    def sent(self, chat: int = CHAT) -> list[SentMessage]:
        return self.sandbox.messages(chat)

    async def wait(self, predicate: Callable[[], T | bool | None], within: float = 8.0) -> T:
        return await self.sandbox.wait_for(predicate, timeout=within)

    async def reply_to(
        self, message_id: int, chat: int = CHAT, within: float = 8.0
    ) -> SentMessage:
        """The bot's (first) reply to a given message."""
        return await self.wait(
            lambda: next((m for m in self.sent(chat) if m.reply_to == message_id), None), within
        )

    async def text_containing(
        self, needle: str, chat: int = CHAT, within: float = 8.0
    ) -> SentMessage:
        return await self.wait(
            lambda: next((m for m in self.sent(chat) if needle in m.text), None), within
        )

    async def settled(self) -> None:
        """Every update confirmed and every queued notification delivered."""
        await self.wait(lambda: self.sandbox.pending_updates() == 0)
        sender = self.app.bot_data.sender_
        assert sender is not None
        assert await sender.drain(8.0)

    @property
    def http_url(self) -> str:
        """Where the health and metrics endpoint listens (needs http_listen set)."""
        health = self.app.bot_data.health_
        assert health is not None and health.server is not None, "no health endpoint"
        return f"http://127.0.0.1:{health.server.port}"

    async def export(self) -> list[dict[str, Any]]:
        return await load_records(self.services.db, self.settings.policy, ticketless=False)

    async def ticket(self, ticket_id: int) -> dict[str, Any]:
        return next(r for r in await self.export() if r["id"] == ticket_id)


def make_settings(sandbox: Sandbox, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": sandbox.token,
        "api_base_url": sandbox.base_url,
        "chat_id": CHAT,
        "supervisor_chat_id": SUP_CHAT,
        "database": db,
        "language": "en",
        "digest_at": "",
        "http_listen": "",  # off unless a test asks (then 127.0.0.1:0: a free port)
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


def populate(sandbox: Sandbox) -> None:
    sandbox.add_chat(CHAT, "Kominfo – Telegram liaison", "supergroup")
    sandbox.add_chat(SUP_CHAT, "Liaison supervisors", "supergroup")
    for uid, name, username in (
        (ANDI, "Andi", "andi_mod"),
        (BUDI, "Budi", "budi_mod"),
        (SARI, "Sari", "sari_lead"),
        (RINA, "Rina", "rina_kominfo"),
        (DEWI, "Dewi", None),
        (EVE, "Eve", "eve_stranger"),
    ):
        sandbox.add_user(uid, name, username)


@contextlib.asynccontextmanager
async def started_sandbox(**options: Any) -> AsyncIterator[Sandbox]:
    """A populated sandbox that outlives the bots started on it (restarts, settings)."""
    sandbox = Sandbox(**{"group_limit": None, **options})
    populate(sandbox)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path,
    *,
    roster: Roster | None = None,
    sandbox: Sandbox | None = None,
    limits: Limits | None = None,
    clock: Clock | None = None,
    **settings: Any,
) -> AsyncIterator[World]:
    """Start sandbox (unless given) and bot; stop both afterwards."""
    own = sandbox is None
    if sandbox is None:
        sandbox = Sandbox(group_limit=None)
        populate(sandbox)
        await sandbox.start()
    cfg = make_settings(sandbox, tmp_path / "liaison.db", **settings)
    runtime = Runtime(
        cfg,
        roster or make_roster(),
        clock or SystemClock(),
        limits or Limits(min_gap=0.0, group_window=60.0),
        poll_timeout=2,
    )
    app = build_application(runtime)
    polls = sandbox.call_count("getUpdates")  # an earlier bot's, on a shared sandbox
    task = asyncio.create_task(serve(app, poll_timeout=2))
    world = World(sandbox, app, cfg, task)
    try:
        if cfg.webhook_url:  # webhook mode: set, and checked once (the server listens)
            await sandbox.wait_for(
                lambda: (
                    sandbox.webhook_url == cfg.webhook_url
                    and sandbox.call_count("getWebhookInfo") > 0
                ),
                timeout=10,
                what="the webhook set",
            )
        else:
            await sandbox.wait_for(lambda: sandbox.call_count("getUpdates") > polls, timeout=10)
        yield world
    finally:
        await stop_task(task)
        if own:
            await sandbox.stop()


async def stop_task(task: asyncio.Task[None], within: float = 10.0) -> None:
    """Cancel the bot and wait for it, bounded: a stop that hangs fails the test instead."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=within)
    assert done, "the bot did not stop within 10 s of being cancelled"
    with contextlib.suppress(asyncio.CancelledError):
        await task


WEBHOOK_SECRET = "sandbox-webhook-secret_1"


def free_port() -> int:
    """A loopback port free now (the webhook URL must name its port before it listens)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_settings(port: int | None = None, path: str = "/telegram/hook") -> dict[str, Any]:
    """Settings for webhook mode on a free loopback port (pass them to running_bot)."""
    port = port or free_port()
    return {
        "webhook_url": f"http://127.0.0.1:{port}{path}",
        "webhook_listen": f"127.0.0.1:{port}",
        "webhook_secret": WEBHOOK_SECRET,
    }


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
