"""A fake Telegram Bot API server on loopback, faithful enough for PTB's real HTTP stack.

Point PTB at it with ``ApplicationBuilder().token(sandbox.token).base_url(sandbox.base_url)``.
The sandbox keeps a small world (users, chats, messages), lets tests push updates as if
people typed them, records every API call, and answers like Telegram does: real HTTP
statuses, real error descriptions, per-group flood limits, injectable faults.

A control API under ``/_sandbox/`` exposes the same world to another process (see
``bot.sandbox.client``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import math
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from bot.sandbox.client import add_control_routes

JSON = dict[str, Any]
T = TypeVar("T")

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: _CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Without allowed_updates Telegram sends every kind but these three.
_DEFAULT_UPDATE_KINDS = _UPDATE_KINDS - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
_TOKEN_SHAPE = re.compile(r"\d+:[\w-]+")
# Form bodies carry every value as a string; these hold JSON, integers or booleans.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "commands",
        "scope",
        "media",
    }
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "from_chat_id",
        "cache_time",
        "message_thread_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "allow_sending_without_reply",
        "drop_pending_updates",
        "disable_web_page_preview",
        "revoke_messages",
    }
)
_INT_TEXT = re.compile(r"-?\d+")


def _wall_clock() -> float:
    # The sandbox plays Telegram's servers, whose message dates are real Unix time; the
    # bot's own clock (bot.clock) is a different thing and may be compressed in the demo.
    return time.time()  # noqa: TID251


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer: HTTP status plus Telegram's description."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _error_for(status: int, description: str | None, retry_after: int) -> ApiError:
    if status == 429:
        return ApiError(
            429,
            description or f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )
    return ApiError(status, description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"))


# --------------------------------------------------------------------------- text and entities

_TLDS = (
    "com|org|net|me|io|ru|id|co|uk|de|info|dog|app|dev|ly|gl|be|tv|to|xyz|site|online|ua|fr"
    "|edu|gov|in|cc|us|eu|biz|pro|ai|ir|su|ton"
)
_URL_RE = re.compile(
    r"(?<![\w@/.-])(?:"
    r"(?:https?|tg)://[^\s<>\"]+"
    rf"|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])"
    r"(?::\d{1,5})?(?:[/?#][^\s<>\"]*)?"
    r")",
    re.IGNORECASE,
)
_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@])")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
_URL_TRAILING = ".,;:!?'\""


def _trim_url(url: str) -> str:
    while url:
        if url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram marks by itself: url, bot_command, mention, hashtag (UTF-16 offsets)."""
    spans: list[tuple[int, int, str]] = []
    for m in _URL_RE.finditer(text):
        url = _trim_url(m.group())
        if url:
            spans.append((m.start(), m.start() + len(url), "url"))

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for kind, pattern in (
        ("bot_command", _COMMAND_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
    ):
        for m in pattern.finditer(text):
            if kind == "hashtag" and m.group()[1:].isdigit():
                continue  # "#12" is a number, not a hashtag
            if free(m.start(), m.end()):
                spans.append((m.start(), m.end(), kind))
    spans.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in spans
    ]


def _overlaps(entity: JSON, others: Iterable[JSON]) -> bool:
    start, end = entity["offset"], entity["offset"] + entity["length"]
    return any(
        start < o["offset"] + o["length"] and o["offset"] < end
        for o in others
        if o["type"] not in ("bold", "italic", "underline", "strikethrough", "spoiler")
    )


def _sort_entities(entities: list[JSON]) -> list[JSON]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_ENTITY_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHAR_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output
    language: str | None = None


def _decode_ref(src: str, i: int) -> tuple[str, int] | None:
    m = _CHAR_REF.match(src, i)
    if not m:
        return None
    if m.group(3) is not None:
        char = _NAMED_CHAR_REFS.get(m.group(3))
        return (char, m.end()) if char else None
    code = int(m.group(1)) if m.group(1) is not None else int(m.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def _decode_text(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ref = _decode_ref(value, i) if value[i] == "&" else None
        if ref:
            out.append(ref[0])
            i = ref[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_html(src: str, users: dict[int, JSON] | None = None) -> tuple[str, list[JSON]]:
    """Telegram's HTML parse mode: plain text and entities, or ApiError like Telegram's."""
    out: list[str] = []
    pos = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i, n = 0, len(src)

    def fail(reason: str) -> ApiError:
        return _bad(f"can't parse entities: {reason}")

    def offset(at: int) -> int:
        return len(src[:at].encode("utf-8"))

    while i < n:
        c = src[i]
        if c == "&" and (ref := _decode_ref(src, i)):
            out.append(ref[0])
            pos += utf16_len(ref[0])
            i = ref[1]
            continue
        if c != "<":
            out.append(c)
            pos += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        if src.startswith("</", i):
            end = src.find(">", i)
            if end == -1:
                raise fail(f"Unclosed end tag at byte offset {offset(i)}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {offset(i)}")
            tag = stack.pop()
            if name != tag.name:
                raise fail(
                    f'Unmatched end tag at byte offset {offset(i)}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            _close_tag(tag, pos, stack, entities, users or {})
            i = end + 1
            continue
        j = i + 1
        while j < n and not src[j].isspace() and src[j] not in ">/":
            j += 1
        name = src[i + 1 : j].lower()
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {offset(i)}")
        if name not in _HTML_ENTITY_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {offset(i)}')
        attrs, j = _parse_attributes(src, j, i)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset(i)}')
        stack.append(_OpenTag(name, attrs, pos))
        i = j
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), _sort_entities(entities)


def _parse_attributes(src: str, j: int, tag_at: int) -> tuple[dict[str, str], int]:
    """Attributes from ``src[j:]`` up to the closing ``>`` of the tag starting at ``tag_at``."""
    attrs: dict[str, str] = {}
    n = len(src)

    def unclosed() -> ApiError:
        offset = len(src[:tag_at].encode("utf-8"))
        return _bad(f"can't parse entities: Unclosed start tag at byte offset {offset}")

    while True:
        while j < n and src[j].isspace():
            j += 1
        if j >= n:
            raise unclosed()
        if src[j] == ">":
            return attrs, j + 1
        if src.startswith("/>", j):
            return attrs, j + 2
        k = j
        while k < n and not src[k].isspace() and src[k] not in "=>":
            k += 1
        attr = src[j:k].lower()
        j = k
        while j < n and src[j].isspace():
            j += 1
        value = ""
        if j < n and src[j] == "=":
            j += 1
            while j < n and src[j].isspace():
                j += 1
            if j < n and src[j] in "\"'":
                close = src.find(src[j], j + 1)
                if close == -1:
                    raise unclosed()
                value = src[j + 1 : close]
                j = close + 1
            else:
                k = j
                while k < n and not src[k].isspace() and src[k] != ">":
                    k += 1
                value = src[j:k]
                j = k
        if attr:
            attrs[attr] = _decode_text(value)


def _close_tag(
    tag: _OpenTag, pos: int, stack: list[_OpenTag], entities: list[JSON], users: dict[int, JSON]
) -> None:
    length = pos - tag.start
    inside_pre = bool(stack) and stack[-1].name == "pre"
    if tag.name == "code" and inside_pre:
        cls = tag.attrs.get("class", "")
        if cls.startswith("language-"):
            stack[-1].language = cls.removeprefix("language-")
        return  # <pre><code> is one pre entity
    if length <= 0:
        return  # Telegram drops empty entities
    entity: JSON = {"type": _HTML_ENTITY_TAGS[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        mention = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if mention:
            user = users.get(int(mention.group(1)))
            if user is None:
                return  # Telegram drops mentions of users it cannot resolve
            entity = {**entity, "type": "text_mention", "user": user}
        elif not href:
            return
        else:
            entity["url"] = href
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    entities.append(entity)


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims surrounding whitespace; entities follow the text."""
    left = len(text) - len(text.lstrip())
    stripped = text.strip()
    shift, total = utf16_len(text[:left]), utf16_len(stripped)
    kept = []
    for e in entities:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, total)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- records


@dataclass
class Upload:
    """A file part of a multipart request."""

    file_name: str
    content_type: str
    data: bytes = field(repr=False)

    def summary(self) -> JSON:
        return {
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": len(self.data),
        }


@dataclass
class SentMessage:
    """A message the bot sent, in its current state (after edits)."""

    chat_id: int
    message_id: int
    text: str  # plain text; for media, the caption's plain text
    html: str | None  # raw text as sent when parse_mode=HTML
    reply_to: int | None
    reply_markup: JSON | None  # the inline keyboard as sent; None = no keyboard
    kind: str  # "text" | "photo" | "document"
    caption: str | None
    file_name: str | None
    file_bytes: bytes | None
    edits: list[str]  # previous texts, oldest first
    sent_at: float  # loop.time() at send
    entities: list[JSON] = field(default_factory=list)
    deleted: bool = False

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every callback button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            (str(b.get("text", "")), str(b["callback_data"]))
            for row in rows
            for b in row
            if "callback_data" in b
        ]

    def to_json(self) -> JSON:
        data = dataclasses.asdict(self)
        data["file_bytes"] = None if self.file_bytes is None else len(self.file_bytes)
        return data


@dataclass
class _FailRule:
    method: str | None
    status: int
    remaining: int
    retry_after: int
    description: str | None


@dataclass
class _RandomFaults:
    rate: float
    rng: random.Random
    statuses: tuple[int, ...]
    timeout_share: float
    hang: float
    include_get_updates: bool


class _Signal:
    """Wakes every waiter; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):  # wait_for may swallow a cancel on 3.11
                    await waiter
        finally:
            self._waiters.discard(waiter)


# --------------------------------------------------------------------------- the sandbox

Handler = Callable[[JSON], Awaitable[Any]]


class Sandbox:
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
        self._sent: dict[int, list[SentMessage]] = {}
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._group_sends: dict[int, deque[float]] = {}
        self._fail_rules: list[_FailRule] = []
        self._delays: list[tuple[str, float]] = []
        self._random_faults: _RandomFaults | None = None
        self._poll_generation = 0
        self._activity = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
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

    # ------------------------------------------------------------------ world

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        started_bot: bool = False,
    ) -> JSON:
        """A Telegram user; with ``started_bot`` the bot may message them privately."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self._users[user_id] = user
        if started_bot:
            self._started.add(user_id)
        return user

    def user(self, user_id: int) -> JSON:
        try:
            return self._users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}: call add_user first") from None

    def block_bot(self, user_id: int) -> None:
        """The user blocked the bot: private messages to them fail with 403."""
        self._blocked.add(user_id)

    def start_private(self, user_id: int) -> JSON:
        """The user pressed Start: pushes their "/start" and allows private messages."""
        self._started.add(user_id)
        self._blocked.discard(user_id)
        return self.send_text(user_id, user_id, "/start")

    def add_chat(
        self, chat_id: int, title: str, kind: str = "supergroup", username: str | None = None
    ) -> JSON:
        """A group, supergroup or channel the bot is a member of."""
        if kind not in ("group", "supergroup", "channel"):
            raise ValueError(f"chat kind must be group, supergroup or channel, not {kind!r}")
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        chat: JSON = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        self._members.setdefault(chat_id, set())
        return chat

    def chat(self, chat_id: int) -> JSON:
        """The chat object, creating a user's private chat on first use."""
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0 and chat_id in self._users:
            user = self._users[chat_id]
            chat: JSON = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            self._chats[chat_id] = chat
            self._members[chat_id] = {chat_id}
            return chat
        raise KeyError(f"unknown chat {chat_id}: call add_chat (or add_user for a private chat)")

    def set_admin(self, chat_id: int, user_id: int, admin: bool = True) -> None:
        """Make a user (or the bot, by its id) an administrator of a chat."""
        admins = self.admins.setdefault(chat_id, set())
        if admin:
            admins.add(user_id)
        else:
            admins.discard(user_id)

    # ------------------------------------------------------------------ pushing updates

    def _new_message(self, chat_id: int, user_id: int) -> JSON:
        chat = self.chat(chat_id)
        user = self.user(user_id)
        self._members.setdefault(chat_id, set()).add(user_id)
        if chat["type"] == "private":
            self._started.add(user_id)  # writing to the bot implies having started it
        message: JSON = {
            "message_id": self._take_message_id(chat_id),
            "date": int(self._clock()),
            "chat": chat,
        }
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = user
        return message

    def _attach_reply(self, message: JSON, chat_id: int, reply_to: int | None) -> None:
        if reply_to is None:
            return
        target = self._messages.get((chat_id, reply_to))
        if target is None:
            raise KeyError(f"no message {reply_to} in chat {chat_id} to reply to")
        message["reply_to_message"] = _shallow(target)

    def _push_message(self, message: JSON) -> JSON:
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        if not self._visible_to_bot(message):
            self.unseen.append(message)
            return message
        kind = "channel_post" if message["chat"]["type"] == "channel" else "message"
        self.push_update({kind: message})
        return message

    def _visible_to_bot(self, message: JSON) -> bool:
        """Privacy mode and membership, as Telegram applies them before delivering."""
        chat = message["chat"]
        if chat["id"] in self.left_chats:
            return False
        if chat["type"] not in ("group", "supergroup") or self.can_read_all_group_messages:
            return True
        if "left_chat_member" in message or "new_chat_members" in message:
            return True  # service messages reach the bot in privacy mode too
        if self.bot_user["id"] in self.admins.get(chat["id"], set()):
            return True
        replied = message.get("reply_to_message") or {}
        if replied.get("from", {}).get("id") == self.bot_user["id"]:
            return True
        text = message.get("text") or message.get("caption") or ""
        entities = message.get("entities") or message.get("caption_entities") or []
        me = f"@{self.bot_user['username']}".lower()
        for e in entities:
            if e.get("offset") != 0 and e.get("type") == "bot_command":
                continue
            word = _utf16_slice(text, e.get("offset", 0), e.get("length", 0)).lower()
            if e.get("type") == "bot_command" and ("@" not in word or word.endswith(me)):
                return True
            if e.get("type") == "mention" and word == me:
                return True
        return False

    def leave_chat(self, chat_id: int, user_id: int) -> JSON:
        """A member leaves a group: a ``left_chat_member`` service message."""
        message = self._new_message(chat_id, user_id)
        self._members.get(chat_id, set()).discard(user_id)
        message["left_chat_member"] = self.user(user_id)
        return self._push_message(message)

    def join_chat(self, chat_id: int, user_id: int) -> JSON:
        """Someone joins a group: a ``new_chat_members`` service message."""
        message = self._new_message(chat_id, user_id)
        message["new_chat_members"] = [self.user(user_id)]
        return self._push_message(message)

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A user writes ``text`` (a private chat when ``chat_id == user_id``)."""
        message = self._new_message(chat_id, user_id)
        message["text"] = text
        found = detect_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        self._attach_reply(message, chat_id, reply_to)
        return self._push_message(message)

    def _photo_sizes(self) -> list[JSON]:
        n = next(self._file_ids)
        return [
            {
                "file_id": f"AgACAgSandboxPhoto{n}x{side}",
                "file_unique_id": f"AQADSbx{n}x{side}",
                "width": side,
                "height": side,
                "file_size": side * 40,
            }
            for side in (90, 320, 800)
        ]

    def send_photo(
        self,
        chat_id: int,
        user_id: int,
        caption: str = "",
        *,
        caption_entities: list[JSON] | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A user posts a photo, with an optional caption."""
        message = self._new_message(chat_id, user_id)
        message["photo"] = self._photo_sizes()
        self._add_caption(message, caption, caption_entities)
        self._attach_reply(message, chat_id, reply_to)
        return self._push_message(message)

    @staticmethod
    def _add_caption(message: JSON, caption: str, entities: list[JSON] | None) -> None:
        if caption:
            message["caption"] = caption
            found = detect_entities(caption) if entities is None else entities
            if found:
                message["caption_entities"] = found

    def forward(
        self,
        chat_id: int,
        user_id: int,
        origin: JSON,
        text: str = "",
        *,
        entities: list[JSON] | None = None,
        photo: bool = False,
    ) -> JSON:
        """A user forwards a message from ``origin`` (see the ``origin_*`` helpers)."""
        message = self._new_message(chat_id, user_id)
        message["forward_origin"] = origin
        if photo:
            message["photo"] = self._photo_sizes()
            self._add_caption(message, text, entities)
        else:
            message["text"] = text
            found = detect_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
        return self._push_message(message)

    @staticmethod
    def origin_channel(
        chat: JSON, message_id: int, date: int | None = None, author_signature: str | None = None
    ) -> JSON:
        origin: JSON = {
            "type": "channel",
            "chat": chat,
            "message_id": message_id,
            "date": int(_wall_clock()) if date is None else date,
        }
        if author_signature:
            origin["author_signature"] = author_signature
        return origin

    @staticmethod
    def origin_user(user: JSON, date: int | None = None) -> JSON:
        return {
            "type": "user",
            "sender_user": user,
            "date": int(_wall_clock()) if date is None else date,
        }

    @staticmethod
    def origin_hidden_user(name: str, date: int | None = None) -> JSON:
        return {
            "type": "hidden_user",
            "sender_user_name": name,
            "date": int(_wall_clock()) if date is None else date,
        }

    @staticmethod
    def origin_chat(chat: JSON, date: int | None = None) -> JSON:
        return {
            "type": "chat",
            "sender_chat": chat,
            "date": int(_wall_clock()) if date is None else date,
        }

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, check: bool = True
    ) -> JSON:
        """A user presses an inline button of a bot message (``check``: it must be there)."""
        sent = self._sent_index.get((chat_id, message_id))
        if sent is None or sent.deleted:
            raise KeyError(f"no live bot message {message_id} in chat {chat_id}")
        if check and data not in [d for _, d in sent.buttons()]:
            raise ValueError(f"message {message_id} has no button {data!r}: {sent.buttons()}")
        query_id = f"{self.bot_user['id']}{next(self._query_ids):08d}"
        self._open_queries.add(query_id)
        query: JSON = {
            "id": query_id,
            "from": self.user(user_id),
            "message": dict(self._messages[(chat_id, message_id)]),
            "chat_instance": str(abs(chat_id) * 7919 % 10**12),
            "data": data,
        }
        self.push_update({"callback_query": query})
        return query

    def add_bot_to_group(self, chat_id: int, by_user_id: int) -> JSON:
        """Someone adds the bot to a group: a my_chat_member update (left -> member)."""
        chat = self.chat(chat_id)
        self.left_chats.discard(chat_id)
        self._members.setdefault(chat_id, set()).add(by_user_id)
        change: JSON = {
            "chat": chat,
            "from": self.user(by_user_id),
            "date": int(self._clock()),
            "old_chat_member": {"user": self.bot_user, "status": "left"},
            "new_chat_member": {"user": self.bot_user, "status": "member"},
        }
        self.push_update({"my_chat_member": change})
        return change

    def push_update(self, update: JSON) -> int:
        """Queue a raw update (any shape); assigns ``update_id`` when missing.

        Like Telegram, getUpdates drops known update kinds the bot did not ask for
        (``allowed_updates``; by default chat_member and reactions).
        """
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        if isinstance(update["update_id"], int):
            self._next_update_id = max(update["update_id"] + 1, self._next_update_id)
        self._updates.append(update)
        self._activity.fire()
        return int(update["update_id"]) if isinstance(update["update_id"], int) else -1

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
        token = request.match_info["token"]
        requested = request.match_info["method"]
        method, handler = self._methods.get(requested.lower(), (requested, None))
        try:
            params = await _read_params(request)
        except ApiError as exc:
            self.calls.append((method, {}))
            return self._answer(exc.body(), exc.status)
        self.calls.append((method, params))
        self._activity.fire()
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

    # ------------------------------------------------------------------ methods: updates

    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_float_param(params, "timeout", 0.0), 0.0)
        if offset > self._next_update_id:
            offset = 0  # from an earlier numbering (renumber_updates): confirms nothing
        if offset > 0:
            self._updates = [u for u in self._updates if _update_id(u) >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0 and len(self._updates) > -offset:
            self._updates = self._updates[offset:]
            self.confirmed_offset = max(self.confirmed_offset, _update_id(self._updates[0]))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Telegram keeps the last list; an empty one restores the default.
            self.allowed_updates = [str(a) for a in allowed] or None
        self._drop_unwanted_updates()
        # A newer getUpdates ends an older pending one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._activity.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._updates and not self._closing and loop.time() < deadline:
            await self._activity.wait(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT)
            self._drop_unwanted_updates()
        return self._updates[:limit]

    def _drop_unwanted_updates(self) -> None:
        """Telegram never queues update kinds the bot did not ask for."""
        allowed = set(self.allowed_updates or _DEFAULT_UPDATE_KINDS)
        self._updates = [
            u
            for u in self._updates
            if (kind := _update_kind(u)) is None or kind not in _UPDATE_KINDS or kind in allowed
        ]

    # ------------------------------------------------------------------ methods: chats

    def _target_chat(self, params: JSON, *, sending: bool = True) -> JSON:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        chat_id = self._resolve_chat_id(raw)
        if chat_id > 0:
            if chat_id not in self._users:
                raise _bad("chat not found")
            if sending and chat_id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if sending and chat_id not in self._started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return self.chat(chat_id)
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        if sending and chat_id in self.left_chats:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        return chat

    def _resolve_chat_id(self, raw: object) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            if _INT_TEXT.fullmatch(raw):
                return int(raw)
            if raw.startswith("@"):
                wanted = raw[1:].lower()
                for chat in self._chats.values():
                    if str(chat.get("username", "")).lower() == wanted:
                        return int(chat["id"])
        raise _bad("chat not found")

    async def _send_chat_action(self, params: JSON) -> bool:
        self._target_chat(params)
        return True

    async def _leave_chat(self, params: JSON) -> bool:
        chat = self._target_chat(params)
        self.left_chats.add(int(chat["id"]))
        return True

    async def _get_chat(self, params: JSON) -> JSON:
        chat = self._target_chat(params, sending=False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member(self, chat_id: int, user: JSON) -> JSON:
        user_id = int(user["id"])
        if user_id in self.admins.get(chat_id, set()):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        if user_id == self.bot_user["id"]:
            present = chat_id not in self.left_chats
        else:
            present = user_id in self._members.get(chat_id, set())
        return {"status": "member" if present else "left", "user": user}

    async def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._target_chat(params, sending=False)
        user_id = _int_param(params, "user_id", 0)
        user = self.bot_user if user_id == self.bot_user["id"] else self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        return self._member(int(chat["id"]), user)

    async def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat = self._target_chat(params, sending=False)
        chat_id = int(chat["id"])
        users = [
            self.bot_user if u == self.bot_user["id"] else self._users.get(u)
            for u in sorted(self.admins.get(chat_id, set()))
        ]
        return [self._member(chat_id, u) for u in users if u is not None]

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("commands must be a list")
        self.commands[_scope_key(params)] = commands
        return True

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(_scope_key(params), [])

    # ------------------------------------------------------------------ methods: messages

    def _take_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _formatted(
        self, params: JSON, key: str, entities_key: str, limit: int, too_long: str
    ) -> tuple[str, list[JSON], str | None]:
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        mode = str(params.get("parse_mode") or "").lower()
        html: str | None = None
        if mode == "html":
            html = raw
            text, entities = parse_html(raw, self._users)
        elif mode:
            raise _bad(f"the sandbox supports parse_mode HTML only, not {params['parse_mode']!r}")
        else:
            given = params.get(entities_key)
            text, entities = raw, list(given) if isinstance(given, list) else []
        text, entities = _strip(text, entities)
        if len(text) > limit:
            raise _bad(too_long)
        # Telegram marks links, mentions and commands in bot messages too.
        auto = [e for e in detect_entities(text) if not _overlaps(e, entities)]
        return text, _sort_entities(entities + auto), html

    def _markup(self, params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards are not part of the message
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad("can't parse inline keyboard button: Text must be non-empty")
                data = button.get("callback_data")
                if data is not None and (
                    not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
                ):
                    raise _bad("BUTTON_DATA_INVALID")
        return markup if any(rows) else None

    def _reply_target(self, params: JSON, chat_id: int) -> int | None:
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        target: int | None = None
        if isinstance(reply, dict) and "message_id" in reply:
            target = int(reply["message_id"])
            allow = allow or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id, str(chat_id)):
                raise _bad("the sandbox supports replies in the same chat only")
        elif params.get("reply_to_message_id") is not None:
            target = _int_param(params, "reply_to_message_id", 0)
        if target is None:
            return None
        if (chat_id, target) in self._messages:
            return target
        if allow:
            return None
        raise _bad("message to be replied not found")

    def _check_group_limit(self, chat_id: int) -> None:
        if self.group_limit is None or chat_id >= 0:
            return
        now = asyncio.get_running_loop().time()
        sends = self._group_sends.setdefault(chat_id, deque())
        while sends and sends[0] <= now - self.group_window:
            sends.popleft()
        if len(sends) >= self.group_limit:
            wait = sends[len(sends) - self.group_limit] + self.group_window - now
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        sends.append(now)

    def _store(
        self,
        chat: JSON,
        *,
        kind: str,
        text: str,
        entities: list[JSON],
        html: str | None,
        markup: JSON | None,
        reply_to: int | None,
        extra: JSON,
        upload: Upload | None = None,
    ) -> JSON:
        chat_id = int(chat["id"])
        self._check_group_limit(chat_id)
        message: JSON = {
            "message_id": self._take_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(self._clock()),
            **extra,
        }
        text_key, entities_key = (
            ("text", "entities") if kind == "text" else ("caption", "caption_entities")
        )
        if text or kind == "text":
            message[text_key] = text
        if entities:
            message[entities_key] = entities
        if reply_to is not None:
            message["reply_to_message"] = _shallow(self._messages[(chat_id, reply_to)])
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        sent = SentMessage(
            chat_id=chat_id,
            message_id=message["message_id"],
            text=text,
            html=html,
            reply_to=reply_to,
            reply_markup=markup,
            kind=kind,
            caption=None if kind == "text" else text or None,
            file_name=upload.file_name if upload else None,
            file_bytes=upload.data if upload else None,
            edits=[],
            sent_at=asyncio.get_running_loop().time(),
            entities=entities,
        )
        self._sent.setdefault(chat_id, []).append(sent)
        self._sent_index[(chat_id, sent.message_id)] = sent
        return message

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        text, entities, html = self._formatted(
            params, "text", "entities", MAX_TEXT, "message is too long"
        )
        if not text:
            raise _bad("message text is empty")
        markup = self._markup(params)
        reply_to = self._reply_target(params, int(chat["id"]))
        return self._store(
            chat,
            kind="text",
            text=text,
            entities=entities,
            html=html,
            markup=markup,
            reply_to=reply_to,
            extra={},
        )

    async def _send_media(self, params: JSON, kind: str) -> JSON:
        chat = self._target_chat(params)
        key = "photo" if kind == "photo" else "document"
        media = params.get(key)
        if media is None or media == "":
            raise _bad(f"there is no {key} in the request")
        upload = media if isinstance(media, Upload) else None
        if upload is not None and not upload.data:
            raise _bad("file must be non-empty")
        text, entities, html = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION, "message caption is too long"
        )
        markup = self._markup(params)
        reply_to = self._reply_target(params, int(chat["id"]))
        n = next(self._file_ids)
        extra: JSON
        if kind == "photo":
            extra = {"photo": self._photo_sizes()}
        else:
            extra = {
                "document": {
                    "file_id": f"BQACAgSandboxDoc{n}",
                    "file_unique_id": f"AgADSbxDoc{n}",
                    "file_name": upload.file_name if upload else "document",
                    "mime_type": upload.content_type if upload else "application/octet-stream",
                    "file_size": len(upload.data) if upload else 0,
                }
            }
        return self._store(
            chat,
            kind=kind,
            text=text,
            entities=entities,
            html=html,
            markup=markup,
            reply_to=reply_to,
            extra=extra,
            upload=upload,
        )

    async def _send_photo(self, params: JSON) -> JSON:
        return await self._send_media(params, "photo")

    async def _send_document(self, params: JSON) -> JSON:
        return await self._send_media(params, "document")

    def _editable(self, params: JSON, missing: str) -> tuple[JSON, SentMessage]:
        if params.get("inline_message_id"):
            raise _bad("the sandbox has no inline messages")
        chat = self._target_chat(params, sending=False)
        key = (int(chat["id"]), _int_param(params, "message_id", 0))
        message = self._messages.get(key)
        if message is None:
            raise _bad(missing)
        sent = self._sent_index.get(key)
        if sent is None:
            raise _bad("message can't be edited")
        return message, sent

    async def _edit_message_text(self, params: JSON) -> JSON:
        message, sent = self._editable(params, "message to edit not found")
        if sent.kind != "text":
            raise _bad("there is no text in the message to edit")
        text, entities, html = self._formatted(
            params, "text", "entities", MAX_TEXT, "message is too long"
        )
        if not text:
            raise _bad("message text is empty")
        markup = self._markup(params)
        if (text, entities, markup) == (sent.text, sent.entities, sent.reply_markup):
            raise _bad(_NOT_MODIFIED)
        sent.edits.append(sent.text)
        sent.text, sent.entities, sent.html, sent.reply_markup = text, entities, html, markup
        return self._apply_edit(message, "text", "entities", text, entities, markup)

    async def _edit_message_caption(self, params: JSON) -> JSON:
        message, sent = self._editable(params, "message to edit not found")
        if sent.kind == "text":
            raise _bad("there is no caption in the message to edit")
        text, entities, html = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION, "message caption is too long"
        )
        markup = self._markup(params)
        if (text, entities, markup) == (sent.text, sent.entities, sent.reply_markup):
            raise _bad(_NOT_MODIFIED)
        sent.edits.append(sent.text)
        sent.text, sent.caption, sent.entities, sent.html = text, text or None, entities, html
        sent.reply_markup = markup
        return self._apply_edit(message, "caption", "caption_entities", text, entities, markup)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        message, sent = self._editable(params, "message to edit not found")
        markup = self._markup(params)
        if markup == sent.reply_markup:
            raise _bad(_NOT_MODIFIED)
        sent.reply_markup = markup
        return self._apply_edit(message, None, None, sent.text, sent.entities, markup)

    def _apply_edit(
        self,
        message: JSON,
        text_key: str | None,
        entities_key: str | None,
        text: str,
        entities: list[JSON],
        markup: JSON | None,
    ) -> JSON:
        if text_key is not None and entities_key is not None:
            if text or text_key == "text":
                message[text_key] = text
            else:
                message.pop(text_key, None)
            if entities:
                message[entities_key] = entities
            else:
                message.pop(entities_key, None)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(self._clock())
        return message

    async def _delete_message(self, params: JSON) -> bool:
        chat = self._target_chat(params, sending=False)
        key = (int(chat["id"]), _int_param(params, "message_id", 0))
        if self._messages.pop(key, None) is None:
            raise _bad("message to delete not found")
        if key in self._sent_index:
            self._sent_index[key].deleted = True
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise _bad(_QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = {
            k: v for k, v in params.items() if k != "callback_query_id"
        }
        return True


# --------------------------------------------------------------------------- helpers


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def _update_kind(update: JSON) -> str | None:
    kinds = [k for k in update if k != "update_id"]
    return kinds[0] if len(kinds) == 1 else None


def _shallow(message: JSON) -> JSON:
    """A message as it appears inside another: Telegram does not nest replies further."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _update_id(update: JSON) -> int:
    value = update.get("update_id")
    return value if isinstance(value, int) else 0


def _int_param(params: JSON, key: str, default: int) -> int:
    value = params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad(f"invalid {key}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    raise _bad(f"invalid {key}")


def _float_param(params: JSON, key: str, default: float) -> float:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(f"invalid {key}") from None


def _scope_key(params: JSON) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


def _brief(params: JSON) -> str:
    parts = []
    for key, value in params.items():
        shown = repr(value)
        parts.append(f"{key}={shown if len(shown) <= 60 else shown[:57] + '...'}")
    return ", ".join(parts)


def _decode_form_value(key: str, value: str) -> Any:
    if key in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {key} JSON object") from None
    if key in _INT_PARAMS and _INT_TEXT.fullmatch(value):
        return int(value)
    if key in _BOOL_PARAMS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


async def _read_params(request: web.Request) -> JSON:
    """Query string plus body (form, multipart or JSON), decoded like Telegram does."""
    params: JSON = {k: _decode_form_value(k, v) for k, v in request.query.items()}
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise _bad("JSON request body must be an object")
        params.update(body)
        return params
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        files: dict[str, Upload] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                upload = Upload(value.filename, value.content_type, value.file.read())
                files[key] = upload
                params[key] = upload
            elif isinstance(value, str):
                params[key] = _decode_form_value(key, value)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = files.get(value.removeprefix("attach://"), value)
        return params
    await request.read()
    return params
