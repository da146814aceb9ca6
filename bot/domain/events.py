"""A ticket's history, typed: an `EventKind` and, per kind, the facts it records (pure).

Every event is a kind plus a frozen dataclass of structured fields (`Fact`). The fields
are stored as JSON beside the kind; the `detail` sentence shown in `/ticket` and in the
export is written from the fields once, when the event is recorded, and never read back:
stats, export and rendering read the fields.

Fields hold JSON-native values only (str, int, bool, None, lists of int): no floats, so a
canonical encoding of an event is exact. Durations are whole seconds.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar


class EventKind(StrEnum):
    """What happened to a ticket."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"
    URGENT = "urgent"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    REJECTED = "rejected"
    NOTE = "note"
    CLARIFICATION = "clarification"
    CLARIFIED = "clarified"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    EVIDENCE_PURGED = "evidence_purged"
    EDITED = "edited"
    CATEGORIZED = "categorized"
    ANCHORED = "anchored"  # the chain head was posted in the chat (belongs to no ticket)


class Escalation(StrEnum):
    """Why a ticket was escalated, and so who was pinged."""

    ACK_REMINDER = "ack_reminder"  # not acknowledged in time: on-call again plus the backup
    OVERDUE = "overdue"  # not closed in time: supervisors
    OVERDUE_REPEAT = "overdue_repeat"  # still not closed: supervisors again
    NOBODY_ON_CALL = "nobody_on_call"  # a new ticket and nobody on call: supervisors
    UNREACHABLE = "unreachable"  # a new ticket and the on-call person cannot be reached
    UNRECOGNISED = "unrecognised"  # an old free-text escalation no release wrote (kept as is)


class Fact:
    """The structured fields of one event kind (a frozen dataclass per kind)."""

    KIND: ClassVar[EventKind]

    def describe(self) -> str:
        """The readable sentence of the export's `detail`."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Created(Fact):
    """A new ticket: its canonical link, or the forwarded message it points at."""

    KIND: ClassVar[EventKind] = EventKind.CREATED
    link: str | None = None
    forwarded_message_id: int | None = None
    urgent: bool = False
    evidence: str | None = None  # SHA-256 of what intake kept (bot.domain.proof)
    # the category and its windows as they applied (whole seconds): the deadlines follow
    # from these and the clock start without the policy; None in histories before them
    category: str | None = None
    agreed_seconds: int | None = None
    legal_seconds: int | None = None
    order: int | None = None  # the order (document) it came in (older events: none)

    def describe(self) -> str:
        """`https://t.me/x/1 (urgent)` or `forwarded message 12`."""
        text = self.link or f"forwarded message {self.forwarded_message_id}"
        return text + (" (urgent)" if self.urgent else "")


@dataclass(frozen=True, slots=True)
class Duplicate(Fact):
    """The content was reported again while its ticket was open."""

    KIND: ClassVar[EventKind] = EventKind.DUPLICATE
    report: int = 0  # the report count after this one
    message_id: int | None = None  # the report message (its reply shows this receipt)
    evidence: str | None = None  # SHA-256 of what intake kept of this report

    def describe(self) -> str:
        """`report 3`."""
        return f"report {self.report}"


@dataclass(frozen=True, slots=True)
class Reopened(Fact):
    """Open again: content came back after the earlier ticket `previous` closed (a new
    ticket), or `/reopen` with a reason."""

    KIND: ClassVar[EventKind] = EventKind.REOPENED
    previous: int | None = None
    reason: str = ""

    def describe(self) -> str:
        """`content back: #4`, or the reason."""
        return f"content back: #{self.previous}" if self.previous is not None else self.reason


@dataclass(frozen=True, slots=True)
class MadeUrgent(Fact):
    """A later report marked the ticket urgent."""

    KIND: ClassVar[EventKind] = EventKind.URGENT

    def describe(self) -> str:
        """Always the same sentence."""
        return "marked urgent by a later report"


@dataclass(frozen=True, slots=True)
class Acknowledged(Fact):
    """A moderator took the ticket."""

    KIND: ClassVar[EventKind] = EventKind.ACKNOWLEDGED

    def describe(self) -> str:
        """Nothing to add: the actor says who."""
        return ""


@dataclass(frozen=True, slots=True)
class Removed(Fact):
    """Content actioned: closed with an outcome; `banned_with` is the ticket whose `/done
    banned` closed this one with its channel."""

    KIND: ClassVar[EventKind] = EventKind.REMOVED
    outcome: str = "removed"
    note: str = ""
    banned_with: int | None = None

    def describe(self) -> str:
        """`removed`, `banned: note`, `banned: channel banned (#3)`."""
        note = f"channel banned (#{self.banned_with})" if self.banned_with else self.note
        return self.outcome + (f": {note}" if note else "")


@dataclass(frozen=True, slots=True)
class Rejected(Fact):
    """Closed as not actionable, with a reason."""

    KIND: ClassVar[EventKind] = EventKind.REJECTED
    reason: str = ""

    def describe(self) -> str:
        """`rejected: reason`."""
        return "rejected" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True, slots=True)
class Note(Fact):
    """A note added to the history."""

    KIND: ClassVar[EventKind] = EventKind.NOTE
    text: str = ""

    def describe(self) -> str:
        """The note itself."""
        return self.text


@dataclass(frozen=True, slots=True)
class ClarificationAsked(Fact):
    """A moderator asked the reporter; the clocks pause."""

    KIND: ClassVar[EventKind] = EventKind.CLARIFICATION
    question: str = ""

    def describe(self) -> str:
        """The question."""
        return self.question


@dataclass(frozen=True, slots=True)
class Clarified(Fact):
    """The reporter answered; the clocks run again (`paused_seconds`: how long they stood,
    None in histories written before it was recorded)."""

    KIND: ClassVar[EventKind] = EventKind.CLARIFIED
    answer: str = ""
    paused_seconds: int | None = None

    def describe(self) -> str:
        """The answer."""
        return self.answer


@dataclass(frozen=True, slots=True)
class Assigned(Fact):
    """Handed to another moderator."""

    KIND: ClassVar[EventKind] = EventKind.ASSIGNED
    to: str = ""  # @username (or name) as shown
    to_id: int | None = None

    def describe(self) -> str:
        """`@budi_mod`."""
        return self.to


@dataclass(frozen=True, slots=True)
class Escalated(Fact):
    """An escalation step fired (`step` is None for new tickets sent straight to
    supervisors); `recipients` are the people pinged (empty in older histories)."""

    KIND: ClassVar[EventKind] = EventKind.ESCALATED
    reason: Escalation = Escalation.ACK_REMINDER
    step: int | None = None
    overdue_seconds: int | None = None
    person: str | None = None  # the unreachable on-call person's name
    recipients: tuple[int, ...] = field(default=())

    def describe(self) -> str:
        """`step 1: ack_reminder`, `step 3: overdue_repeat, 3600s past the deadline`,
        `nobody on call: supervisors`, `Andi not reachable: supervisors`."""
        if self.reason is Escalation.NOBODY_ON_CALL:
            return "nobody on call: supervisors"
        if self.reason is Escalation.UNREACHABLE:
            return f"{self.person} not reachable: supervisors"
        if self.reason is Escalation.UNRECOGNISED:
            return "escalated"
        text = f"step {self.step}: {self.reason.value}"
        if self.overdue_seconds is not None:
            text += f", {self.overdue_seconds}s past the deadline"
        return text


@dataclass(frozen=True, slots=True)
class EvidencePurged(Fact):
    """The retention period ended: the kept evidence was deleted."""

    KIND: ClassVar[EventKind] = EventKind.EVIDENCE_PURGED
    items: int = 0

    def describe(self) -> str:
        """`2 item(s)`."""
        return f"{self.items} item(s)"


@dataclass(frozen=True, slots=True)
class ReportEdited(Fact):
    """The report was edited; `link_removed` when it no longer holds this ticket's link (the
    ticket stays: history only grows)."""

    KIND: ClassVar[EventKind] = EventKind.EDITED
    link_removed: bool = False

    def describe(self) -> str:
        """`report edited` or `report edited: link removed`."""
        return "report edited" + (": link removed" if self.link_removed else "")


@dataclass(frozen=True, slots=True)
class Categorized(Fact):
    """The category changed (`/category`, the card's button): the deadlines are the new
    windows from the clock start (`agreed_seconds`, `legal_seconds`)."""

    KIND: ClassVar[EventKind] = EventKind.CATEGORIZED
    previous: str = "other"
    category: str = "other"
    agreed_seconds: int = 0
    legal_seconds: int = 0

    def describe(self) -> str:
        """`other -> gambling (agreed 14400s, legal 14400s)`."""
        return (
            f"{self.previous} -> {self.category}"
            f" (agreed {self.agreed_seconds}s, legal {self.legal_seconds}s)"
        )


@dataclass(frozen=True, slots=True)
class Anchored(Fact):
    """The chain head (`seq`, `hash`) was posted in `chat_id` as message `message_id`, whose
    date Telegram set: an event of no ticket, recorded once the message was delivered."""

    KIND: ClassVar[EventKind] = EventKind.ANCHORED
    seq: int = 0
    hash: str = ""
    chat_id: int | None = None
    message_id: int | None = None

    def describe(self) -> str:
        """`seq 41 posted as message 812`."""
        return f"seq {self.seq} posted as message {self.message_id}"


FACTS: dict[EventKind, type[Fact]] = {
    cls.KIND: cls
    for cls in (
        Created,
        Duplicate,
        Reopened,
        MadeUrgent,
        Acknowledged,
        Removed,
        Rejected,
        Note,
        ClarificationAsked,
        Clarified,
        Assigned,
        Escalated,
        EvidencePurged,
        ReportEdited,
        Categorized,
        Anchored,
    )
}


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded event of a ticket's history (`ticket_id` None: of no ticket, an anchor)."""

    ticket_id: int | None
    at: datetime
    actor_id: int | None
    fact: Fact
    detail: str  # written from the fact when recorded (older rows: as they were written)
    id: int = 0

    @property
    def kind(self) -> EventKind:
        """The event's kind (from its fact)."""
        return self.fact.KIND


def new_event(ticket_id: int | None, at: datetime, actor_id: int | None, fact: Fact) -> Event:
    """An event about to be recorded: its detail is written from the fact."""
    return Event(ticket_id, at, actor_id, fact, fact.describe())


# ---- JSON fields ---------------------------------------------------------------------------


def to_data(fact: Fact) -> dict[str, Any]:
    """A fact's fields as JSON-native values."""
    out: dict[str, Any] = {}
    for f in fields(fact):  # type: ignore[arg-type]  # every Fact is a dataclass
        value = getattr(fact, f.name)
        if isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


# each fact class's field names and types, resolved once (an export reads many events)
_SHAPES: dict[EventKind, tuple[frozenset[str], dict[str, Any]]] = {
    kind: (
        frozenset(f.name for f in fields(cls)),  # type: ignore[arg-type]  # dataclasses
        typing.get_type_hints(cls),
    )
    for kind, cls in FACTS.items()
}


def from_data(kind: EventKind | str, data: dict[str, Any]) -> Fact:
    """The fact of a stored event; raises ValueError for an unknown kind or field."""
    cls = FACTS.get(EventKind(kind))
    if cls is None:  # pragma: no cover - every kind has a class (tested)
        raise ValueError(f"no fields for event kind {kind!r}")
    known, hints = _SHAPES[cls.KIND]
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            raise ValueError(f"{kind}: unknown field {name!r}")
        hint = hints[name]
        if isinstance(hint, type) and issubclass(hint, StrEnum):
            value = hint(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


# ---- histories written before events were typed ----------------------------------------------

_STEP = re.compile(r"step (\d+): (\w+)(?:, (\d+)s past the deadline)?\Z")
_BACK = re.compile(r"content back: #(\d+)\Z")
_BANNED_WITH = re.compile(r"channel banned \(#(\d+)\)\Z")
_PURGED = re.compile(r"(\d+) item\(s\)\Z")
_REPORT = re.compile(r"report (\d+)\Z")
_STEPS = ("ack_reminder", "overdue", "overdue_repeat")
_OUTCOMES = ("removed", "banned", "restricted", "gone", "rejected")


def parse_legacy(kind: str, detail: str) -> Fact:
    """The fields of an event recorded as free text by the release before typed events.

    Every sentence that release wrote maps back to its fields exactly (`describe` of the
    result gives the same sentence); text it did not write (a note) stays text.
    """
    k = EventKind(kind)
    if k is EventKind.CREATED:
        urgent = detail.endswith(" (urgent)")
        text = detail.removesuffix(" (urgent)")
        if text.startswith("forwarded message "):
            number = text.removeprefix("forwarded message ")
            if number.isdigit():
                return Created(forwarded_message_id=int(number), urgent=urgent)
        return Created(link=text or None, urgent=urgent)
    if k is EventKind.DUPLICATE:
        m = _REPORT.match(detail)
        return Duplicate(report=int(m.group(1)) if m else 0)
    if k is EventKind.REOPENED:
        m = _BACK.match(detail)
        return Reopened(previous=int(m.group(1))) if m else Reopened(reason=detail)
    if k is EventKind.URGENT:
        return MadeUrgent()
    if k is EventKind.ACKNOWLEDGED:
        return Acknowledged()
    if k in (EventKind.REMOVED, EventKind.REJECTED):
        outcome, _, note = detail.partition(": ")
        if outcome not in _OUTCOMES:
            outcome, note = ("rejected" if k is EventKind.REJECTED else "removed"), detail
        if k is EventKind.REJECTED:
            return Rejected(reason=note)
        m = _BANNED_WITH.match(note)
        if m and outcome == "banned":
            return Removed(outcome=outcome, banned_with=int(m.group(1)))
        return Removed(outcome=outcome, note=note)
    if k is EventKind.NOTE:
        return Note(text=detail)
    if k is EventKind.CLARIFICATION:
        return ClarificationAsked(question=detail)
    if k is EventKind.CLARIFIED:
        return Clarified(answer=detail)
    if k is EventKind.ASSIGNED:
        return Assigned(to=detail)
    if k is EventKind.EVIDENCE_PURGED:
        m = _PURGED.match(detail)
        return EvidencePurged(items=int(m.group(1)) if m else 0)
    if k is EventKind.EDITED:  # written only since events were typed; here for completeness
        return ReportEdited(link_removed=detail.endswith("link removed"))
    if k is EventKind.CATEGORIZED:  # likewise
        return Categorized()
    if k is EventKind.ANCHORED:  # likewise: anchors came after typed events
        return Anchored()
    return _legacy_escalation(detail)


def _legacy_escalation(detail: str) -> Escalated:
    if detail.startswith("nobody on call"):
        return Escalated(reason=Escalation.NOBODY_ON_CALL)
    if detail.endswith(" not reachable: supervisors"):
        name = detail.removesuffix(" not reachable: supervisors")
        return Escalated(reason=Escalation.UNREACHABLE, person=name)
    m = _STEP.match(detail)
    if m is None or m.group(2) not in _STEPS:
        return Escalated(reason=Escalation.UNRECOGNISED)  # the detail keeps the sentence
    late = m.group(3)
    return Escalated(
        reason=Escalation(m.group(2)),
        step=int(m.group(1)),
        overdue_seconds=int(late) if late is not None else None,
    )
