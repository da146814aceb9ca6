"""Webhook delivery as Telegram does it: setWebhook, deleteWebhook, getWebhookInfo, and
a deliverer that POSTs each update as JSON to the webhook, in order and one at a time.

While a webhook is set, getUpdates answers 409. An update is delivered (and so confirmed)
when the bot answers 2xx; any other status, a refused connection or no answer within
``webhook_timeout`` is retried after a short backoff, as Telegram retries. Loopback only:
the sandbox posts nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.faults import _bad
from bot.sandbox.params import _int_param
from bot.sandbox.records import JSON
from bot.sandbox.state import SandboxState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST to the webhook: when (event loop time), which update, how it was answered
    (0: no answer: refused, reset or timed out)."""

    at: float
    update_id: int
    status: int


class WebhookDelivery(SandboxState):
    """The webhook methods and the deliverer."""

    webhook_url: str
    webhook_secret: str | None
    webhook_timeout: float  # seconds the bot has to answer a delivery
    webhook_backoff: tuple[float, float]  # first and longest wait before a redelivery
    deliveries: list[Delivery]
    _webhook_error: tuple[int, str] | None
    _deliverer: asyncio.Task[None] | None

    async def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK:
            raise _bad("bad webhook: the sandbox delivers to loopback addresses only")
        secret = params.get("secret_token")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            with contextlib.suppress(ValueError):
                allowed = json.loads(allowed)
        if isinstance(allowed, list):
            self.allowed_updates = [str(a) for a in allowed] or None
        _int_param(params, "max_connections", 40)  # accepted; delivery is one at a time
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret else None
        self._webhook_error = None
        self._poll_generation += 1  # a pending getUpdates ends (409)
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.get_running_loop().create_task(self._deliver())
        self._activity.fire()
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        self._activity.fire()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = 1
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
            if self._webhook_error is not None:
                info["last_error_date"] = self._webhook_error[0]
                info["last_error_message"] = self._webhook_error[1]
        return info

    def delivered(self, status: int | None = None) -> list[Delivery]:
        """The webhook deliveries so far (only those answered ``status``, if given)."""
        return [d for d in self.deliveries if status is None or d.status == status]

    async def _stop_deliverer(self) -> None:
        task, self._deliverer = self._deliverer, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver(self) -> None:
        loop = asyncio.get_running_loop()
        first, longest = self.webhook_backoff
        backoff = first
        async with aiohttp.ClientSession() as session:
            while self.webhook_url and not self._closing:
                self._drop_unwanted_updates()
                if not self._updates:
                    await self._activity.wait(1.0)
                    continue
                url, update = self.webhook_url, self._updates[0]
                headers = {"Content-Type": "application/json"}
                if self.webhook_secret:
                    headers[SECRET_HEADER] = self.webhook_secret
                status, error = 0, ""
                try:
                    async with session.post(
                        url,
                        data=json.dumps(update),
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                    ) as response:
                        await response.read()
                        status = response.status
                        error = f"Wrong response from the webhook: {status} {response.reason}"
                except TimeoutError:
                    error = "Read timeout expired"
                except aiohttp.ClientError as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                update_id = update.get("update_id")
                self.deliveries.append(
                    Delivery(loop.time(), update_id if isinstance(update_id, int) else 0, status)
                )
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                        if isinstance(update_id, int):
                            self.confirmed_offset = max(self.confirmed_offset, update_id + 1)
                    backoff = first
                    self._activity.fire()
                    continue
                self._webhook_error = (int(self._clock()), error)
                self._activity.fire()
                await asyncio.sleep(backoff)  # then the same update again
                backoff = min(backoff * 2, longest)
