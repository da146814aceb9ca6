"""Bot API methods about the bot itself and its updates: getMe, getUpdates (the webhook
methods and delivery are in ``delivery``)."""

from __future__ import annotations

import asyncio

from bot.sandbox.faults import _CONFLICT, ApiError
from bot.sandbox.params import _float_param, _int_param
from bot.sandbox.records import JSON
from bot.sandbox.state import SandboxState

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


class UpdateMethods(SandboxState):
    """getMe, getUpdates, and methods that only answer True."""

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

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
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


def _update_kind(update: JSON) -> str | None:
    kinds = [k for k in update if k != "update_id"]
    return kinds[0] if len(kinds) == 1 else None


def _update_id(update: JSON) -> int:
    value = update.get("update_id")
    return value if isinstance(value, int) else 0
