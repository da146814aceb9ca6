"""Use cases: report, acknowledge, close, reopen, escalate… (no telegram imports).

Every state change, its history events and the notifications it causes are written in one
SQLite transaction; notifications go to the outbox and are delivered by the sender.

One module per group of use cases, each a mixin over `ServicesBase` (base.py); `Services`
joins them. The records they take and return are in records.py.
"""

from __future__ import annotations

from bot.domain.desk import Desk
from bot.domain.roster import Role
from bot.notices import Feedback
from bot.services.chats import ChatsMixin
from bot.services.escalation import EscalationMixin
from bot.services.intake import IntakeMixin
from bot.services.moderation import ModerationMixin
from bot.services.orders import OrdersMixin
from bot.services.queries import QueriesMixin
from bot.services.records import (
    MAX_OVERRIDE,
    OUTCOME_WORDS,
    EvidenceIn,
    Intake,
    IntakeResult,
    OrderIn,
)
from bot.services.schedule import ScheduleMixin

__all__ = [
    "MAX_OVERRIDE",
    "OUTCOME_WORDS",
    "Desk",
    "EvidenceIn",
    "Feedback",
    "Intake",
    "IntakeResult",
    "OrderIn",
    "Role",
    "Services",
]


class Services(
    OrdersMixin,  # before IntakeMixin: an order takes each link in as a report does
    IntakeMixin,
    ModerationMixin,
    EscalationMixin,
    ScheduleMixin,
    ChatsMixin,
    QueriesMixin,
):
    """The bot's use cases over one database and one clock."""
