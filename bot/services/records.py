"""The use cases' records: roles, settings, what comes in and what goes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.links import Link
from bot.domain.tickets import EscalationPolicy, Outcome


class Role(StrEnum):
    """What someone may do here (ordered by power)."""

    STRANGER = "stranger"
    REPORTER = "reporter"
    MODERATOR = "moderator"
    SUPERVISOR = "supervisor"


RANK = {Role.STRANGER: 0, Role.REPORTER: 1, Role.MODERATOR: 2, Role.SUPERVISOR: 3}


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The parts of the settings the use cases need."""

    chat_id: int
    supervisor_chat_id: int | None
    policy: EscalationPolicy
    zone: ZoneInfo
    language: str = "id"
    evidence_retention: timedelta = timedelta(days=180)
    digest_at: time | None = time(8, 0)


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
    foreign_url: bool = False
    evidence: EvidenceIn = field(default_factory=EvidenceIn)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What a report produced."""

    new: tuple[int, ...] = ()
    duplicates: tuple[int, ...] = ()
    hinted: bool = False


@dataclass(frozen=True, slots=True)
class Feedback:
    """A short answer for the person who acted (button toast or nothing)."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    shown_in: int | None = None  # chat where the effect is already visible (no echo needed)


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


def today_local(now: datetime, zone: ZoneInfo) -> date:
    """The calendar day at `now` in the display zone."""
    return now.astimezone(zone).date()
