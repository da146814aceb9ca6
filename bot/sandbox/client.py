"""The sandbox's control API, both sides: routes under ``/_sandbox/`` and a client for them.

A benchmark runs the sandbox in its own process (``python -m bot.sandbox``) and drives its
world over HTTP with :class:`SandboxClient`. Every answer is ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": "..."}`` with status 400.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

JSON = dict[str, Any]
PREFIX = "/_sandbox"


class SandboxError(Exception):
    """The control API refused a request."""


# --------------------------------------------------------------------------- server side


def add_control_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Serve ``sandbox``'s world under ``/_sandbox/`` on ``app``."""
    actions: dict[str, Callable[..., Any]] = {
        "users": lambda user_id, first_name, username=None, started_bot=False: sandbox.add_user(
            user_id, first_name, username, started_bot=started_bot
        ),
        "chats": lambda chat_id, title, kind="supergroup", username=None: sandbox.add_chat(
            chat_id, title, kind, username
        ),
        "start_private": sandbox.start_private,
        "send_text": sandbox.send_text,
        "send_photo": sandbox.send_photo,
        "post_document": lambda content_b64, **rest: sandbox.post_document(
            content=base64.b64decode(content_b64), **rest
        ),
        "forward": sandbox.forward,
        "press_button": sandbox.press_button,
        "add_bot_to_group": sandbox.add_bot_to_group,
        "push_update": sandbox.push_update,
        "renumber_updates": sandbox.renumber_updates,
        "leave_chat": sandbox.leave_chat,
        "join_chat": sandbox.join_chat,
        "fail_next": sandbox.fail_next,
        "fail_randomly": sandbox.fail_randomly,
        "config": lambda **changes: _configure(sandbox, changes),
    }

    def post_handler(
        action: Callable[..., Any],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await request.json() if request.body_exists else {}
                if not isinstance(body, dict):
                    raise TypeError("the body must be a JSON object")
                if "batch" in body:
                    result: Any = [action(**item) for item in body["batch"]]
                else:
                    result = action(**body)
            except (TypeError, KeyError, ValueError) as exc:
                return web.json_response({"ok": False, "error": f"{exc}"}, status=400)
            return web.json_response({"ok": True, "result": result})

        return handle

    for name, action in actions.items():
        app.router.add_post(f"{PREFIX}/{name}", post_handler(action))

    async def messages(request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
        except (KeyError, ValueError):
            return web.json_response({"ok": False, "error": "chat_id is required"}, status=400)
        result = [m.to_json() for m in sandbox.messages(chat_id)]
        return web.json_response({"ok": True, "result": result})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": _stats(sandbox)})

    async def wait_messages(request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
            count = int(request.query["count"])
            timeout = float(request.query.get("timeout", "10"))
        except (KeyError, ValueError):
            return web.json_response(
                {"ok": False, "error": "chat_id and count are required"}, status=400
            )
        try:
            found = await sandbox.wait_for(
                lambda: len(sandbox.messages(chat_id)) >= count,
                timeout,
                what=f"{count} bot messages in chat {chat_id}",
            )
        except TimeoutError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=408)
        return web.json_response({"ok": True, "result": found})

    app.router.add_get(f"{PREFIX}/messages", messages)
    app.router.add_get(f"{PREFIX}/stats", stats)
    app.router.add_get(f"{PREFIX}/wait_messages", wait_messages)


def _configure(sandbox: Sandbox, changes: JSON) -> JSON:
    for key, value in changes.items():
        if key == "group_limit":
            sandbox.group_limit = None if value is None else int(value)
        elif key == "group_window":
            sandbox.group_window = float(value)
        elif key == "can_read_all_group_messages":
            sandbox.can_read_all_group_messages = bool(value)
        else:
            raise KeyError(f"unknown setting {key!r}")
    return {
        "group_limit": sandbox.group_limit,
        "group_window": sandbox.group_window,
        "can_read_all_group_messages": sandbox.can_read_all_group_messages,
    }


def _stats(sandbox: Sandbox) -> JSON:
    by_method: dict[str, int] = {}
    for method, _ in sandbox.calls:
        by_method[method] = by_method.get(method, 0) + 1
    return {
        "calls": by_method,
        "total_calls": len(sandbox.calls),
        "rejected_429": sandbox.rejected_429,
        "pending_updates": sandbox.pending_updates(),
        "confirmed_offset": sandbox.confirmed_offset,
    }


# --------------------------------------------------------------------------- client side


class SandboxClient:
    """Drives a sandbox in another process: ``SandboxClient("http://127.0.0.1:PORT")``."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _post(self, path: str, body: JSON) -> Any:
        async with self._http().post(f"{self.base}{PREFIX}/{path}", json=body) as response:
            return _unwrap(await response.json())

    async def _get(self, path: str, **query: str) -> Any:
        async with self._http().get(f"{self.base}{PREFIX}/{path}", params=query) as response:
            return _unwrap(await response.json())

    async def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        started_bot: bool = False,
    ) -> JSON:
        body = {"user_id": user_id, "first_name": first_name, "username": username}
        result: JSON = await self._post("users", {**body, "started_bot": started_bot})
        return result

    async def add_chat(
        self, chat_id: int, title: str, kind: str = "supergroup", username: str | None = None
    ) -> JSON:
        body = {"chat_id": chat_id, "title": title, "kind": kind, "username": username}
        result: JSON = await self._post("chats", body)
        return result

    async def start_private(self, user_id: int) -> JSON:
        result: JSON = await self._post("start_private", {"user_id": user_id})
        return result

    async def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        body = {"chat_id": chat_id, "user_id": user_id, "text": text, "reply_to": reply_to}
        result: JSON = await self._post("send_text", {**body, "entities": entities})
        return result

    async def post_document(
        self,
        chat_id: int,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        caption: str = "",
        mime_type: str | None = None,
        file_size: int | None = None,
    ) -> JSON:
        """A user posts a document (its bytes travel base64 in the control call)."""
        body = {
            "chat_id": chat_id,
            "user_id": user_id,
            "file_name": file_name,
            "content_b64": base64.b64encode(content).decode("ascii"),
            "caption": caption,
            "mime_type": mime_type,
            "file_size": file_size,
        }
        result: JSON = await self._post("post_document", body)
        return result

    async def send_texts(self, items: list[JSON]) -> list[JSON]:
        """Many messages in one request; each item has ``send_text``'s arguments."""
        result: list[JSON] = await self._post("send_text", {"batch": items})
        return result

    async def forward(
        self,
        chat_id: int,
        user_id: int,
        origin: JSON,
        text: str = "",
        *,
        entities: list[JSON] | None = None,
        photo: bool = False,
    ) -> JSON:
        body = {"chat_id": chat_id, "user_id": user_id, "origin": origin, "text": text}
        result: JSON = await self._post("forward", {**body, "entities": entities, "photo": photo})
        return result

    async def press_button(self, chat_id: int, user_id: int, message_id: int, data: str) -> JSON:
        body = {"chat_id": chat_id, "user_id": user_id, "message_id": message_id, "data": data}
        result: JSON = await self._post("press_button", body)
        return result

    async def add_bot_to_group(self, chat_id: int, by_user_id: int) -> JSON:
        body = {"chat_id": chat_id, "by_user_id": by_user_id}
        result: JSON = await self._post("add_bot_to_group", body)
        return result

    async def renumber_updates(self, next_id: int) -> int:
        """Start a new sequence of update ids (Telegram does after a week without updates)."""
        return int(await self._post("renumber_updates", {"next_id": next_id}))

    async def configure(self, **settings: Any) -> JSON:
        """Change ``group_limit`` (None: off), ``group_window`` or
        ``can_read_all_group_messages``; returns the settings now in force."""
        result: JSON = await self._post("config", settings)
        return result

    async def fail_randomly(self, rate: float, *, seed: int, **options: Any) -> None:
        await self._post("fail_randomly", {"rate": rate, "seed": seed, **options})

    async def messages(self, chat_id: int) -> list[JSON]:
        """The bot's messages in a chat (``file_bytes`` is given as a size)."""
        result: list[JSON] = await self._get("messages", chat_id=str(chat_id))
        return result

    async def wait_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the server bounds its own wait with it
    ) -> None:
        """Wait until the bot has sent ``count`` messages to the chat (SandboxError if not)."""
        await self._get(
            "wait_messages", chat_id=str(chat_id), count=str(count), timeout=str(timeout)
        )

    async def stats(self) -> JSON:
        result: JSON = await self._get("stats")
        return result

    async def wait_ready(self, within: float = 10.0) -> None:
        """Wait until the sandbox answers (for a process that is still starting)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            try:
                await self.stats()
                return
            except aiohttp.ClientConnectionError:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(
                    0.05
                )  # polling a port that is not open yet: no event to wait on


def _unwrap(body: Any) -> Any:
    if not isinstance(body, dict) or not body.get("ok"):
        error = body.get("error") if isinstance(body, dict) else body
        raise SandboxError(str(error))
    return body.get("result")
