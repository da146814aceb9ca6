"""Bot API methods about messages: send, edit, delete, and answer button presses."""

from __future__ import annotations

import asyncio
import math
from collections import deque

from bot.sandbox.faults import ApiError, _bad
from bot.sandbox.params import _int_param
from bot.sandbox.records import JSON, SentMessage, Upload
from bot.sandbox.state import SandboxState
from bot.sandbox.text import _overlaps, _sort_entities, _strip, detect_entities, parse_html
from bot.sandbox.world import _shallow

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


class MessageMethods(SandboxState):
    """sendMessage, sendPhoto, sendDocument, the edits, deleteMessage, answerCallbackQuery."""

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

    def _topic_of(self, params: JSON, chat: JSON, reply_to: int | None) -> JSON:
        """The forum topic a sent message lands in: the one asked for (it must exist: the
        General topic has no thread id), else the replied-to message's, else none."""
        chat_id = int(chat["id"])
        asked = params.get("message_thread_id")
        if asked not in (None, ""):
            thread = _int_param(params, "message_thread_id", 0)
            if not chat.get("is_forum") or thread not in self._topics.get(chat_id, set()):
                raise _bad("message thread not found")
            return {"message_thread_id": thread, "is_topic_message": True}
        if reply_to is not None:
            replied = self._messages[(chat_id, reply_to)]
            if replied.get("is_topic_message"):
                return {
                    "message_thread_id": replied["message_thread_id"],
                    "is_topic_message": True,
                }
        return {}

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
            thread=message.get("message_thread_id"),
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
            extra=self._topic_of(params, chat, reply_to),
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
        extra: JSON = self._topic_of(params, chat, reply_to)
        if kind == "photo":
            extra["photo"] = self._photo_sizes()
        else:
            extra["document"] = {
                "file_id": f"BQACAgSandboxDoc{n}",
                "file_unique_id": f"AgADSbxDoc{n}",
                "file_name": upload.file_name if upload else "document",
                "mime_type": upload.content_type if upload else "application/octet-stream",
                "file_size": len(upload.data) if upload else 0,
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
