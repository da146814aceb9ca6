"""The sandbox's world: users and chats, and the updates their actions push to the bot."""

from __future__ import annotations

import time

from bot.sandbox.records import JSON
from bot.sandbox.state import SandboxState
from bot.sandbox.text import _utf16_slice, detect_entities


def _wall_clock() -> float:
    # The sandbox plays Telegram's servers, whose message dates are real Unix time; the
    # bot's own clock (bot.clock) is a different thing and may be compressed in the demo.
    return time.time()  # noqa: TID251


def _shallow(message: JSON) -> JSON:
    """A message as it appears inside another: Telegram does not nest replies further."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


class World(SandboxState):
    """Scripting the world: add users and chats, then act as them."""

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
