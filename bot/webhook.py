"""The webhook update source: Telegram POSTs each update; 200 only after it is committed.

`WebhookServer` listens on LIAISON_WEBHOOK_LISTEN (behind a TLS proxy) at the path of
LIAISON_WEBHOOK_URL. Each request:

- without the right ``X-Telegram-Bot-Api-Secret-Token``: 403, nothing read or changed;
- a body over `MAX_BODY`: 413; not a JSON object with an integer ``update_id``: 400;
- otherwise, one at a time (a lock: the pipeline handles updates in order), the update
  goes through `bot.pipeline.handle_raw` like a polled one; 200 once its effect and its
  id are committed, 500 if the database refused it (Telegram delivers it again);
- a re-delivered update (the last one committed: Telegram sends again what it did not
  hear a 200 for) is answered 200 and changes nothing.

`run_webhook` sets the webhook (URL, secret, the update kinds polling asks for,
max_connections=1 so updates come in order) and then checks it every poll period with
getWebhookInfo: each success, like each delivery, is progress for /healthz, and a webhook
that someone else removed or changed is set again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, InvalidToken, TelegramError

from bot.config import ConfigError
from bot.context import LiaisonApp
from bot.pipeline import StorageFailure, already_handled, handle_raw, last_handled
from storage.db import StorageError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1024 * 1024  # bytes; an update is a few kilobytes (an album item, a long post)
ATTEMPTS = 1  # tries per delivery: a failed one answers 500, and Telegram's redelivery retries
RECENT = 1024  # ids handled by this process that a late duplicate is recognised by


class WebhookServer:
    """The HTTP endpoint Telegram (through the TLS proxy) posts updates to."""

    def __init__(self, app: LiaisonApp, *, url: str, listen: str, secret: str) -> None:
        self.app = app
        self.path = urlsplit(url).path or "/"
        self.host, _, port = listen.rpartition(":")
        self._port = int(port)
        self._secret = secret.encode()
        self._lock = asyncio.Lock()
        self._last = 0
        self._recent: deque[int] = deque(maxlen=RECENT)
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port actually bound (after start)."""
        return self._port

    async def start(self) -> None:
        """Listen; the last committed update id is read first (re-deliveries of it)."""
        self._last = await last_handled(self.app.bot_data.services.db)
        web_app = web.Application(client_max_size=MAX_BODY)
        web_app.router.add_post(self.path, self._receive)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host.strip("[]") or None, self._port)
        try:
            await site.start()
        except OSError as exc:  # taken, or not an address of this machine
            await runner.cleanup()
            raise ConfigError(f"LIAISON_WEBHOOK_LISTEN {self.host}:{self._port}: {exc}") from None
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("webhook endpoint on http://%s:%d%s", self.host, self._port, self.path)

    async def stop(self) -> None:
        """Stop listening (a delivery in progress finishes or is cut off uncommitted)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="wrong secret token\n")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="update too large\n")
        try:
            raw: Any = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="update too large\n")
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON\n")
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="not an update\n")
        async with self._lock:
            if update_id in self._recent or already_handled(update_id, self._last):
                self._delivered()
                return web.Response(text="already handled\n")
            try:
                await handle_raw(self.app, raw, attempts=ATTEMPTS)
            except (StorageFailure, StorageError) as exc:
                log.error(
                    "update %s not stored (%s): answered 500, Telegram retries", update_id, exc
                )
                return web.Response(status=500, text="not stored; deliver it again\n")
            self._last = update_id
            self._recent.append(update_id)
        self._delivered()
        return web.Response(text="ok\n")

    def _delivered(self) -> None:
        health = self.app.bot_data.health_
        if health is not None:
            health.delivery_ok()


async def set_webhook(app: LiaisonApp, url: str, secret: str) -> None:
    """Point Telegram at the webhook; pending updates are kept (delivered to it)."""
    await app.bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=list(Update.ALL_TYPES),  # as polling asks for them
        max_connections=1,  # in order, one at a time: see bot/pipeline.py
        drop_pending_updates=False,
    )


async def run_webhook(
    app: LiaisonApp, *, url: str, listen: str, secret: str, check_seconds: float = 25
) -> None:
    """Serve the webhook until cancelled (see the module docstring)."""
    server = WebhookServer(app, url=url, listen=listen, secret=secret)
    health = app.bot_data.health_
    if health is not None:
        health.webhook = True
    await server.start()  # before setWebhook: the first delivery finds it listening
    try:
        backoff = 1.0
        current = False
        while True:
            try:
                if not current:
                    await set_webhook(app, url, secret)
                    log.info("webhook set: Telegram posts updates to %s", url)
                info = await app.bot.get_webhook_info()
                current = info.url == url
                if not current:
                    log.warning("the webhook is %r, not ours: setting it again", info.url)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff = 1.0
                if health is not None:
                    health.delivery_ok()
            except InvalidToken:
                raise
            except BadRequest as exc:  # e.g. a URL Telegram will not post to
                raise ConfigError(
                    f"LIAISON_WEBHOOK_URL {url}: Telegram refused it: {exc}"
                ) from None
            except TelegramError as exc:
                log.warning("webhook check failed (%s); retrying in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            await asyncio.sleep(check_seconds)
    finally:
        await server.stop()
