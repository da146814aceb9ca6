"""Plain records of the sandbox: the JSON alias, uploads, and the messages the bot sent."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


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
    thread: int | None = None  # the forum topic it was sent in (None: General, or no forum)

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


@dataclass(frozen=True)
class Answered:
    """One Bot API call as the sandbox answered it: when it came in (event loop time, so
    gaps between calls are exact), the method, the HTTP status and the parameters."""

    at: float
    method: str
    status: int
    params: JSON = field(repr=False)
