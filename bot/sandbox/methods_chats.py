"""Bot API methods about chats, their members, and the bot's command lists."""

from __future__ import annotations

from bot.sandbox.faults import ApiError, _bad
from bot.sandbox.params import _INT_TEXT, _int_param, _scope_key
from bot.sandbox.records import JSON
from bot.sandbox.state import SandboxState


class ChatMethods(SandboxState):
    """Chat lookup for every method, getChat, getChatMember(s), leaveChat, *MyCommands."""

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
