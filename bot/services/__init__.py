"""Use cases: report, acknowledge, close, reopen, escalate… (no telegram imports).

Every state change, its history events and the notifications it causes are written in one
SQLite transaction; notifications go to the outbox and are delivered by the sender.

One module per group of use cases, each a mixin over `ServicesBase` (base.py); `Services`
joins them. The records they take and return are in records.py.
"""

from __future__ import annotations

from bot.services.chats import ChatsMixin
from bot.services.escalation import EscalationMixin
from bot.services.intake import IntakeMixin
from bot.services.moderation import ModerationMixin
from bot.services.queries import QueriesMixin
from bot.services.records import (
    MAX_OVERRIDE,
    OUTCOME_WORDS,
    RANK,
    EvidenceIn,
    Feedback,
    Intake,
    IntakeResult,
    Role,
    ServiceConfig,
    today_local,
)
from bot.services.schedule import ScheduleMixin

__all__ = [
    "MAX_OVERRIDE",
    "OUTCOME_WORDS",
    "RANK",
    "EvidenceIn",
    "Feedback",
    "Intake",
    "IntakeResult",
    "Role",
    "ServiceConfig",
    "Services",
    "today_local",
]


class Services(
    IntakeMixin, ModerationMixin, EscalationMixin, ScheduleMixin, ChatsMixin, QueriesMixin
):
    """The bot's use cases over one database and one clock."""
