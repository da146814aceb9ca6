"""The state that Sandbox and its parts share, declared once for the type checker."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.sandbox.records import JSON, SentMessage


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


class SandboxState:
    """What ``Sandbox.__init__`` sets up and the parts of Sandbox (its mixins) use.

    Only declarations: Sandbox's ``__init__`` assigns the attributes, and the methods
    declared at the end are defined by one part and called by another.
    """

    bot_user: JSON
    can_read_all_group_messages: bool
    group_limit: int | None
    group_window: float
    _clock: Callable[[], float]

    confirmed_offset: int
    left_chats: set[int]
    admins: dict[int, set[int]]
    callback_answers: dict[str, JSON]
    commands: dict[str, list[JSON]]
    unseen: list[JSON]
    allowed_updates: list[str] | None

    _users: dict[int, JSON]
    _started: set[int]
    _blocked: set[int]
    _chats: dict[int, JSON]
    _members: dict[int, set[int]]
    _next_message_id: dict[int, int]
    _messages: dict[tuple[int, int], JSON]
    _topics: dict[int, set[int]]
    _sent: dict[int, list[SentMessage]]
    _sent_index: dict[tuple[int, int], SentMessage]
    _updates: list[JSON]
    _next_update_id: int
    _file_ids: itertools.count[int]
    _query_ids: itertools.count[int]
    _open_queries: set[str]
    _group_sends: dict[int, deque[float]]
    _poll_generation: int
    _activity: _Signal
    _closing: bool
    webhook_url: str  # empty: no webhook (getUpdates works)

    if TYPE_CHECKING:

        def chat(self, chat_id: int) -> JSON: ...  # World

        def _photo_sizes(self) -> list[JSON]: ...  # World

        def _target_chat(self, params: JSON, *, sending: bool = True) -> JSON: ...  # ChatMethods

        def _take_message_id(self, chat_id: int) -> int: ...  # MessageMethods

        def _drop_unwanted_updates(self) -> None: ...  # UpdateMethods
