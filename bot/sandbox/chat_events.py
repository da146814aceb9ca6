"""What people do in a chat besides writing: edit a message, forward an album, pin, and what a
linked channel's automatic forwards look like (as Telegram delivers them)."""

from __future__ import annotations

import copy
import itertools

from bot.sandbox.records import JSON
from bot.sandbox.text import detect_entities
from bot.sandbox.world import World

TELEGRAM_SERVICE_USER: JSON = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


class ChatEvents(World):
    """Scripted chat events beyond plain messages (the Sandbox's world)."""

    _media_groups = itertools.count(13_000_000_000_000_001)
    _reactions: dict[tuple[int, int, int], tuple[str, ...]]  # set up by the Sandbox

    def edit_text(self, chat_id: int, message_id: int, text: str) -> JSON:
        """The author edits a message's text (or caption): an `edited_message` update."""
        old = self._messages.get((chat_id, message_id))
        if old is None:
            raise KeyError(f"no message {message_id} in chat {chat_id} to edit")
        edited = copy.deepcopy(old)
        field = "caption" if "caption" in edited or "photo" in edited else "text"
        edited[field] = text
        found = detect_entities(text)
        entities = "caption_entities" if field == "caption" else "entities"
        edited.pop(entities, None)
        if found:
            edited[entities] = found
        edited["edit_date"] = int(self._clock())
        self._messages[(chat_id, message_id)] = edited
        self.push_update({"edited_message": edited})
        return edited

    def forward_album(
        self, chat_id: int, user_id: int, origins: list[JSON], captions: list[str] | None = None
    ) -> list[JSON]:
        """Several posts forwarded at once: photo messages sharing one `media_group_id`."""
        group = str(next(self._media_groups))
        sent: list[JSON] = []
        for index, origin in enumerate(origins):
            message = self._new_message(chat_id, user_id)
            message["forward_origin"] = origin
            message["media_group_id"] = group
            message["photo"] = self._photo_sizes()
            caption = captions[index] if captions and index < len(captions) else ""
            self._add_caption(message, caption, None)
            sent.append(self._push_message(message))
        return sent

    def automatic_forward(self, chat_id: int, channel: JSON, post_id: int, text: str) -> JSON:
        """A linked channel's post, copied into its discussion group by Telegram itself."""
        message: JSON = {
            "message_id": self._take_message_id(chat_id),
            "date": int(self._clock()),
            "chat": self.chat(chat_id),
            "from": TELEGRAM_SERVICE_USER,  # as Telegram sends it, the channel beside it
            "sender_chat": channel,
        }
        message["is_automatic_forward"] = True
        message["forward_origin"] = self.origin_channel(channel, post_id)
        message["text"] = text
        found = detect_entities(text)
        if found:
            message["entities"] = found
        return self._push_message(message)

    def react(self, chat_id: int, user_id: int, message_id: int, *emoji: str) -> JSON:
        """Someone sets their reactions on a message (none: takes them back). Telegram tells
        the bot only where it is an admin, and only when it asked for `message_reaction`."""
        if (chat_id, message_id) not in self._messages:
            raise KeyError(f"no message {message_id} in chat {chat_id} to react to")
        key = (chat_id, message_id, user_id)
        old = self._reactions.get(key, ())
        self._reactions[key] = emoji
        update: JSON = {
            "message_reaction": {
                "chat": self.chat(chat_id),
                "message_id": message_id,
                "user": self.user(user_id),
                "date": int(self._clock()),
                "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                "new_reaction": [{"type": "emoji", "emoji": e} for e in emoji],
            }
        }
        if self.bot_user["id"] in self.admins.get(chat_id, set()):
            self.push_update(update)
        return update

    def open_topic(self, chat_id: int, user_id: int, name: str) -> int:
        """Someone opens a forum topic (the chat becomes a forum); returns its thread id,
        which is the id of the topic's service message, as on Telegram."""
        self.chat(chat_id)["is_forum"] = True
        message = self._new_message(chat_id, user_id)
        if message["message_id"] == 1:  # thread 1 is General (the chat itself), never a topic
            message["message_id"] = self._take_message_id(chat_id)
        message["forum_topic_created"] = {"name": name, "icon_color": 7322096}
        thread = int(message["message_id"])
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
        self._topics.setdefault(chat_id, set()).add(thread)
        self._push_message(message)
        return thread

    def say_in_topic(self, chat_id: int, user_id: int, thread: int, text: str) -> JSON:
        """A user writes in a forum topic."""
        if thread not in self._topics.get(chat_id, set()):
            raise KeyError(f"no topic {thread} in chat {chat_id}")
        message = self._new_message(chat_id, user_id)
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
        message["text"] = text
        found = detect_entities(text)
        if found:
            message["entities"] = found
        return self._push_message(message)

    def pin(self, chat_id: int, user_id: int, message_id: int) -> JSON:
        """Someone pins a message: a service message carrying the pinned one."""
        pinned = self._messages.get((chat_id, message_id))
        if pinned is None:
            raise KeyError(f"no message {message_id} in chat {chat_id} to pin")
        message = self._new_message(chat_id, user_id)
        message["pinned_message"] = copy.deepcopy(pinned)
        return self._push_message(message)
