"""A fake Telegram Bot API server on loopback, faithful enough for PTB's real HTTP stack.

Point PTB at it with ``ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url)``.
The sandbox keeps a small world (users, chats, messages), lets tests push updates as if
people typed them, records every API call, and answers like Telegram does: real HTTP
statuses, real error descriptions, per-group flood limits, injectable faults.

Sandbox is put together from mixins: the world (``world``) and the Bot API methods
(``methods_updates``, ``methods_chats``, ``methods_messages``); message text, request
parameters, errors and records have modules of their own. This module holds the rest:
lifecycle, inspection, fault injection and HTTP.

A control API under ``/_sandbox/`` exposes the same world to another process (see
``bot.sandbox.client``).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bot.sandbox.chat_events import ChatEvents
from bot.sandbox.client import add_control_routes
from bot.sandbox.delivery import Delivery, WebhookDelivery
from bot.sandbox.faults import ApiError, _error_for, _FailRule, _RandomFaults
from bot.sandbox.files import FileMethods
from bot.sandbox.methods_chats import ChatMethods
from bot.sandbox.methods_messages import MessageMethods
from bot.sandbox.methods_updates import UpdateMethods
from bot.sandbox.params import _brief, _read_params
from bot.sandbox.records import JSON, Answered, SentMessage, Upload
from bot.sandbox.state import _Signal
from bot.sandbox.text import detect_entities, parse_html, utf16_len
from bot.sandbox.world import _wall_clock

__all__ = [
    "Answered",
    "ApiError",
    "Delivery",
    "Sandbox",
    "SentMessage",
    "Upload",
    "detect_entities",
    "parse_html",
    "utf16_len",
]

T = TypeVar("T")
_TOKEN_SHAPE = re.compile(r"\d+:[\w-]+")

Handler = Callable[[JSON], Awaitable[Any]]


class Sandbox(
    ChatEvents, FileMethods, UpdateMethods, WebhookDelivery, ChatMethods, MessageMethods
):
    """A fake Bot API on loopback with a scriptable world; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:SANDBOX-token",  # noqa: S107 - the sandbox's fake token
        *,
        bot_id: int = 123456,
        bot_username: str = "liaison_sandbox_bot",
        can_read_all_group_messages: bool = True,
        group_limit: int | None = 20,
        group_window: float = 60.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Liaison Sandbox",
            "username": bot_username,
        }
        self.can_read_all_group_messages = can_read_all_group_messages
        self.group_limit = group_limit
        self.group_window = group_window
        self._clock = clock or _wall_clock

        self.calls: list[tuple[str, JSON]] = []
        self.answered: list[Answered] = []  # every call: when it came in, how it was answered
        self.confirmed_offset = 0
        self.left_chats: set[int] = set()
        self.admins: dict[int, set[int]] = {}  # chat id -> user ids (the bot included)
        self.callback_answers: dict[str, JSON] = {}
        self.commands: dict[str, list[JSON]] = {}
        self.rejected_429 = 0
        self.unseen: list[JSON] = []  # user messages not delivered (privacy mode, left chat)
        self.allowed_updates: list[str] | None = None  # as last set by getUpdates

        self._users: dict[int, JSON] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._chats: dict[int, JSON] = {}
        self._members: dict[int, set[int]] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSON] = {}  # every live message, as Telegram has it
        self._reactions: dict[tuple[int, int, int], tuple[str, ...]] = {}  # chat, message, user
        self._topics: dict[int, set[int]] = {}  # forum chat id -> thread ids of its topics
        self._sent: dict[int, list[SentMessage]] = {}
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}
        self._file_paths: dict[str, str] = {}
        self._sizes: dict[str, int] = {}
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._group_sends: dict[int, deque[float]] = {}
        self._fail_rules: list[_FailRule] = []
        self._delays: list[tuple[str, float]] = []
        self._random_faults: _RandomFaults | None = None
        self._poll_generation = 0
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_timeout = 10.0
        self.webhook_backoff = (0.05, 1.0)
        self.deliveries = []
        self._webhook_error = None
        self._deliverer = None
        self._activity = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "close": self._true,
                "logOut": self._true,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "leaveChat": self._leave_chat,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "setMyName": self._true,
                "setMyDescription": self._true,
                "setMyShortDescription": self._true,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "getChat": self._get_chat,
                "getFile": self._get_file,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        add_control_routes(app, self)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening; pending long polls and hung requests end at once."""
        if self._runner is None:
            return
        self._closing = True
        self._activity.fire()
        await self._stop_deliverer()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("sandbox not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ inspecting

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first."""
        return [m for m in self._sent.get(chat_id, []) if include_deleted or not m.deleted]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        try:
            return self._sent_index[(chat_id, message_id)]
        except KeyError:
            raise KeyError(f"the bot sent no message {message_id} in chat {chat_id}") from None

    def renumber_updates(self, next_id: int) -> int:
        """Start a new sequence of update ids, as Telegram does after a week without updates
        ("the identifier of the next update will be chosen randomly"). The bot's offset,
        taken from the old sequence, is then above every id issued and confirms nothing."""
        if not isinstance(next_id, int) or next_id < 1:
            raise ValueError("next_id must be a positive integer")
        self._next_update_id = next_id
        return next_id

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def call_count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point of this helper
        *,
        what: str | None = None,
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked after every call and update)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_report(predicate, timeout, what))
            await self._activity.wait(remaining)

    def _timeout_report(
        self, predicate: Callable[[], object], timeout: float, what: str | None
    ) -> str:
        name = what or getattr(predicate, "__qualname__", repr(predicate))
        recent = "\n".join(f"  {m}({_brief(p)})" for m, p in self.calls[-8:]) or "  (none)"
        return (
            f"sandbox: {name} not met within {timeout}s; {len(self.calls)} calls, "
            f"{self.pending_updates()} unconfirmed updates, confirmed offset "
            f"{self.confirmed_offset}. Last calls:\n{recent}"
        )

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | None,
        status: int,
        *,
        count: int = 1,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with an error.

        ``method`` None matches any method except getUpdates.
        """
        self._fail_rules.append(_FailRule(method, status, count, retry_after, description))

    def delay_answers(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Carry out the next ``count`` calls of ``method`` at once but answer them only
        after ``seconds``: Telegram has accepted a message the bot has not heard back about."""
        self._delays.extend([(method, seconds)] * count)

    def fail_randomly(
        self,
        rate: float,
        *,
        seed: int,
        statuses: Sequence[int] = (429, 500, 502),
        timeout_share: float = 0.0,
        hang: float = 30.0,
        include_get_updates: bool = False,
    ) -> None:
        """Fail a share ``rate`` of calls (not getUpdates unless asked); 0 turns it off.

        A share ``timeout_share`` of the failures hangs ``hang`` seconds, then answers 504.
        """
        if rate <= 0:
            self._random_faults = None
            return
        self._random_faults = _RandomFaults(
            rate=rate,
            rng=random.Random(seed),  # noqa: S311 - reproducible fault injection, not security
            statuses=tuple(statuses),
            timeout_share=timeout_share,
            hang=hang,
            include_get_updates=include_get_updates,
        )

    async def _inject_fault(self, method: str) -> None:
        for rule in self._fail_rules:
            matches = (
                method != "getUpdates"
                if rule.method is None
                else rule.method.lower() == method.lower()
            )
            if matches:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._fail_rules.remove(rule)
                raise _error_for(rule.status, rule.description, rule.retry_after)
        faults = self._random_faults
        if faults is None or (method == "getUpdates" and not faults.include_get_updates):
            return
        if faults.rng.random() >= faults.rate:
            return
        if faults.rng.random() < faults.timeout_share:
            await self._hang(faults.hang)
            raise _error_for(504, None, 1)
        raise _error_for(faults.rng.choice(faults.statuses), None, 1)

    async def _hang(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._closing and loop.time() < deadline:
            await self._activity.wait(deadline - loop.time())

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        """Answer one Bot API call; each is recorded in ``answered`` with the instant it came
        in (event loop time) and the status it got, so a test can time the bot's retries."""
        arrived = asyncio.get_running_loop().time()
        token = request.match_info["token"]
        requested = request.match_info["method"]
        method, handler = self._methods.get(requested.lower(), (requested, None))
        params: JSON = {}
        try:
            params = await _read_params(request)
        except ApiError as exc:
            self.calls.append((method, {}))
            response = self._answer(exc.body(), exc.status)
        else:
            self.calls.append((method, params))
            self._activity.fire()
            response = await self._carry_out(method, handler, token, params)
        self.answered.append(Answered(arrived, method, response.status, params))
        return response

    async def _carry_out(
        self, method: str, handler: Handler | None, token: str, params: JSON
    ) -> web.Response:
        try:
            if token != self.token:
                if _TOKEN_SHAPE.fullmatch(token):
                    raise ApiError(401, "Unauthorized")
                raise ApiError(404, "Not Found")
            if handler is None:
                raise ApiError(404, "Not Found")
            await self._inject_fault(method)
            result = await handler(params)
            delay = next((d for d in self._delays if d[0] == method), None)
            if delay is not None:
                self._delays.remove(delay)
                await asyncio.sleep(delay[1])
        except ApiError as exc:
            return self._answer(exc.body(), exc.status)
        return self._answer({"ok": True, "result": result}, 200)

    def _answer(self, body: JSON, status: int) -> web.Response:
        if status == 429:
            self.rejected_429 += 1
        self._activity.fire()
        return web.json_response(body, status=status)
