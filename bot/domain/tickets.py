"""Tickets, their statuses and the escalation policy: pure functions of (ticket, policy, now)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.categories import (
    DEFAULT,
    Categories,
    Category,
    agreed_window,
    builtin_categories,
)


class Status(StrEnum):
    """Where a ticket stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLARIFICATION = "clarification"
    REMOVED = "removed"
    REJECTED = "rejected"

    @property
    def closed(self) -> bool:
        """True for the two end states."""
        return self in (Status.REMOVED, Status.REJECTED)


class Outcome(StrEnum):
    """How content was actioned (for `/done`) or why not (`rejected`)."""

    REMOVED = "removed"
    BANNED = "banned"
    RESTRICTED = "restricted"
    GONE = "gone"
    REJECTED = "rejected"


class StepKind(StrEnum):
    """The escalation ladder."""

    ACK_REMINDER = "ack_reminder"  # on-call again plus the backup
    OVERDUE = "overdue"  # supervisors: the resolve deadline passed
    REPEAT = "overdue_repeat"  # supervisors again, every repeat interval


NORMAL = "normal"  # the ticket class of a ticket nothing makes special
URGENT = "urgent"  # `#urgent` in the report


@dataclass(frozen=True, slots=True)
class Windows:
    """The deadlines of one class of tickets: to acknowledge, to close, between repeats."""

    ack: timedelta
    resolve: timedelta
    repeat: timedelta


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Policy as data: one ack window and repeat interval, the urgent cap, and the
    category table whose agreed windows drive escalation (legal ones are reported)."""

    ack: timedelta
    urgent: timedelta
    repeat: timedelta
    categories: Categories

    def category(self, ticket: Ticket) -> Category:
        """The ticket's category (an unknown key: the default one)."""
        return self.categories.get(ticket.category)

    def agreed(self, ticket: Ticket) -> timedelta:
        """The ticket's agreed window: its category's, capped by the urgent one if urgent."""
        return agreed_window(self.category(ticket), ticket.urgent, self.urgent)

    def legal(self, ticket: Ticket) -> timedelta:
        """The ticket's legal window (its category's; `#urgent` does not change it)."""
        return self.category(ticket).legal

    def windows(self, ticket: Ticket) -> Windows:
        """The windows that apply to this ticket."""
        return Windows(self.ack, self.agreed(ticket), self.repeat)


def standard_policy(
    ack: timedelta = timedelta(minutes=15),
    resolve: timedelta = timedelta(hours=4),
    urgent: timedelta = timedelta(hours=1),
    repeat: timedelta = timedelta(hours=1),
    categories: Categories | None = None,
) -> EscalationPolicy:
    """The policy of the settings: the built-in categories (the default one closing within
    `resolve`) unless a table is given, and `urgent` as the cap of urgent tickets."""
    table = categories if categories is not None else builtin_categories(resolve)
    return EscalationPolicy(ack, urgent, repeat, table)


def ticket_class(ticket: Ticket) -> str:
    """Normal or urgent (for figures that split them)."""
    return URGENT if ticket.urgent else NORMAL


@dataclass(frozen=True, slots=True)
class Step:
    """One escalation step that is (or will be) due."""

    number: int  # 1 = ack reminder, 2 = overdue, 3.. = repeats
    kind: StepKind
    due_at: datetime
    overdue_by: timedelta  # how late the ticket is against its deadline at due_at (0 for step 1-2)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A tracked report, with its escalation state kept on it."""

    id: int
    link: str | None
    link_key: str | None
    channel: str | None
    status: Status
    urgent: bool
    reporter_id: int
    chat_id: int
    report_message_id: int
    assignee_id: int | None
    report_count: int
    created_at: datetime
    clock_start_at: datetime  # creation, or the last reopening
    acknowledged_at: datetime | None
    closed_at: datetime | None
    outcome: Outcome | None
    reopened_from: int | None
    paused_at: datetime | None  # set while waiting for the reporter's clarification
    paused_total: timedelta
    esc_step: int  # last escalation step that fired (0: none yet)
    last_escalated_at: datetime | None
    card_message_id: int | None
    clarify_message_id: int | None = None
    category: str = DEFAULT  # a key of the policy's category table

    @property
    def is_closed(self) -> bool:
        """True once removed or rejected."""
        return self.status.closed


def new_ticket(
    *,
    link: str | None,
    link_key: str | None,
    channel: str | None,
    urgent: bool,
    reporter_id: int,
    chat_id: int,
    report_message_id: int,
    now: datetime,
    reopened_from: int | None = None,
    category: str = DEFAULT,
) -> Ticket:
    """A ticket just reported: open, every clock starting `now` (its id is given on insert)."""
    return Ticket(
        id=0,
        link=link,
        link_key=link_key,
        channel=channel,
        status=Status.OPEN,
        urgent=urgent,
        reporter_id=reporter_id,
        chat_id=chat_id,
        report_message_id=report_message_id,
        assignee_id=None,
        report_count=1,
        created_at=now,
        clock_start_at=now,
        acknowledged_at=None,
        closed_at=None,
        outcome=None,
        reopened_from=reopened_from,
        paused_at=None,
        paused_total=timedelta(0),
        esc_step=0,
        last_escalated_at=None,
        card_message_id=None,
        category=category,
    )


def resolve_window(ticket: Ticket, policy: EscalationPolicy) -> timedelta:
    """The time allowed to close this ticket."""
    return policy.windows(ticket).resolve


def ack_due_at(ticket: Ticket, policy: EscalationPolicy) -> datetime:
    """When the ticket must be acknowledged by (pauses move it)."""
    return ticket.clock_start_at + policy.windows(ticket).ack + ticket.paused_total


def deadline_at(ticket: Ticket, policy: EscalationPolicy) -> datetime:
    """When the ticket must be closed by (pauses move it)."""
    return ticket.clock_start_at + resolve_window(ticket, policy) + ticket.paused_total


def step_due_at(ticket: Ticket, policy: EscalationPolicy, number: int) -> datetime:
    """Due instant of step `number` (1-based) for this ticket."""
    if number == 1:
        return ack_due_at(ticket, policy)
    return deadline_at(ticket, policy) + policy.windows(ticket).repeat * (number - 2)


def _step(ticket: Ticket, policy: EscalationPolicy, number: int) -> Step:
    due = step_due_at(ticket, policy, number)
    if number == 1:
        return Step(1, StepKind.ACK_REMINDER, due, timedelta(0))
    kind = StepKind.OVERDUE if number == 2 else StepKind.REPEAT
    return Step(number, kind, due, due - deadline_at(ticket, policy))


def _first_pending(ticket: Ticket, policy: EscalationPolicy) -> int:
    nxt = ticket.esc_step + 1
    if nxt == 1 and ticket.acknowledged_at is not None:
        return 2  # acknowledged in time: the reminder is moot
    if nxt == 1 and deadline_at(ticket, policy) <= ack_due_at(ticket, policy):
        return 2  # a close deadline shorter than the ack one: supervisors come first
    return nxt


def next_due_at(ticket: Ticket, policy: EscalationPolicy) -> datetime | None:
    """Instant at which the next escalation step falls due, or None (closed or paused)."""
    if ticket.is_closed or ticket.paused_at is not None:
        return None
    return step_due_at(ticket, policy, _first_pending(ticket, policy))


def due_steps(ticket: Ticket, policy: EscalationPolicy, now: datetime) -> list[Step]:
    """Every step that is due at `now` and has not fired yet, in order."""
    if ticket.is_closed or ticket.paused_at is not None:
        return []
    steps: list[Step] = []
    number = _first_pending(ticket, policy)
    while True:
        step = _step(ticket, policy, number)
        if step.due_at > now:
            return steps
        steps.append(step)
        number += 1


def is_overdue(ticket: Ticket, policy: EscalationPolicy, now: datetime) -> bool:
    """True when an open ticket is past its deadline."""
    if ticket.is_closed:
        return False
    return now >= deadline_at(ticket, policy) + _current_pause(ticket, now)


def _current_pause(ticket: Ticket, now: datetime) -> timedelta:
    return now - ticket.paused_at if ticket.paused_at is not None else timedelta(0)


def effective_deadline(ticket: Ticket, policy: EscalationPolicy, now: datetime) -> datetime:
    """Deadline as it stands now, counting a pause still running."""
    return deadline_at(ticket, policy) + _current_pause(ticket, now)


def legal_deadline_at(ticket: Ticket, policy: EscalationPolicy) -> datetime:
    """When the ticket must be closed by under the regulation (pauses move it)."""
    return ticket.clock_start_at + policy.legal(ticket) + ticket.paused_total


def by_category_legal_first(
    tickets: Sequence[Ticket], policy: EscalationPolicy, now: datetime
) -> list[tuple[str, list[Ticket]]]:
    """Tickets grouped by category, the group whose legal deadline comes (came) first at the
    top, and within a group by legal deadline (a running pause moves it), then number."""

    def due(t: Ticket) -> tuple[datetime, int]:
        return legal_deadline_at(t, policy) + _current_pause(t, now), t.id

    groups: dict[str, list[Ticket]] = {}
    for t in sorted(tickets, key=due):
        groups.setdefault(t.category, []).append(t)
    return list(groups.items())  # insertion order: by each group's first legal deadline
