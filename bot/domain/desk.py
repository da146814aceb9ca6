"""The desk: one liaison chat and everything that configures how it is served (a value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.roster import Roster
from bot.domain.tickets import EscalationPolicy


@dataclass(frozen=True, slots=True)
class Desk:
    """A liaison chat, its supervisor chat, who works it and by which rules. Use cases,
    rendering and the access gate are handed one; nothing reads these from globals."""

    chat_id: int
    supervisor_chat_id: int | None
    roster: Roster
    policy: EscalationPolicy
    zone: ZoneInfo
    language: str = "id"
    evidence_retention: timedelta = timedelta(days=180)
    digest_at: time | None = time(8, 0)
    ack_reaction: str | None = "👍"  # None: reactions acknowledge nothing
    notice_topic: int | None = None  # forum topic of the notices the bot starts itself

    def is_own_chat(self, chat_id: int | None) -> bool:
        """The liaison chat or the supervisor chat."""
        return chat_id is not None and chat_id in (self.chat_id, self.supervisor_chat_id)
