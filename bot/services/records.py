"""The use cases' records: what comes in and what goes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.links import Link
from bot.domain.tickets import Outcome


@dataclass(frozen=True, slots=True)
class EvidenceIn:
    """Evidence captured from the reporting message."""

    text: str | None = None
    media: tuple[str, ...] = ()
    origin: str | None = None
    origin_chat_id: int | None = None
    origin_message_id: int | None = None
    origin_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Intake:
    """One message in the liaison chat, as far as reports are concerned."""

    chat_id: int
    message_id: int
    reporter_id: int
    links: Sequence[Link]
    forwarded_without_link: bool = False
    urgent: bool = False
    tags: tuple[str, ...] = ()  # '#tags' outside links: the policy says which is a category
    foreign_url: bool = False
    evidence: EvidenceIn = field(default_factory=EvidenceIn)
    album: str | None = None  # media_group_id: posts forwarded together, answered together
    thread: int | None = None  # the forum topic it was written in: replies go there
    order: int | None = None  # the order (document) its links came in


@dataclass(frozen=True, slots=True)
class OrderIn:
    """A document posted in the liaison chat: its name, bytes and caption (the reference)."""

    chat_id: int
    message_id: int
    reporter_id: int
    file_name: str
    data: bytes
    caption: str = ""
    thread: int | None = None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What a report produced."""

    new: tuple[int, ...] = ()
    duplicates: tuple[int, ...] = ()
    hinted: bool = False


# An on-call override longer than this is a typo (and far enough out overflows datetime).
MAX_OVERRIDE = timedelta(days=366)

OUTCOME_WORDS: dict[str, Outcome] = {
    "removed": Outcome.REMOVED,
    "dihapus": Outcome.REMOVED,
    "banned": Outcome.BANNED,
    "diblokir": Outcome.BANNED,
    "restricted": Outcome.RESTRICTED,
    "dibatasi": Outcome.RESTRICTED,
    "gone": Outcome.GONE,
    "hilang": Outcome.GONE,
}
