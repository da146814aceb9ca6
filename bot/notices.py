"""What the bot tells whom: one frozen dataclass per outgoing message kind (pure data).

The use cases queue notices in the outbox in the same transaction as the change that
causes them; the sender delivers them and the renderer turns each into text, reading the
tickets' state at send time. A notice is stored as its `KIND` plus its fields as JSON, and
read back through `NOTICES`, the registry from kind to class.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, ClassVar


class Answer(StrEnum):
    """Short answers to the person who acted (a reply, or a button's toast)."""

    REFUSED = "refused"
    UNKNOWN_TICKET = "unknown_ticket"
    ALREADY_CLOSED = "already_closed"
    ALREADY_ACKED = "already_acked"
    ACKED = "acked"
    CLOSED = "closed"
    NOTED = "noted"
    CLARIFY_SENT = "clarify_sent"
    CLARIFIED_OK = "clarified_ok"
    NOT_YOURS = "not_yours"
    NOT_CLOSED = "not_closed"
    OPEN_ELSEWHERE = "open_elsewhere"
    REOPENED_OK = "reopened_ok"
    UNKNOWN_MODERATOR = "unknown_moderator"
    ASSIGNED_OK = "assigned_ok"
    CATEGORY_SET = "category_set"
    UNKNOWN_CATEGORY = "unknown_category"
    ONCALL_SET = "oncall_set"
    QUEUED = "queued"


@dataclass(frozen=True, slots=True)
class Feedback:
    """What one action did, for the person who asked: `changed` when it changed something,
    `shown_in` the chat where its effect is already visible (no echo needed)."""

    key: Answer
    ticket: int | None = None
    name: str = ""  # a person's name (assigned to), or the @username asked for
    changed: bool = False
    shown_in: int | None = None

    def args(self) -> dict[str, object]:
        """The values the answer's text shows."""
        return {"id": self.ticket, "name": self.name, "username": self.name}


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A message to one chat: about `tickets`, in reply to `reply_to` (if any)."""

    KIND: ClassVar[str] = ""
    # consecutive notices of one kind to one chat, equal but for their tickets, go out as one
    MERGEABLE: ClassVar[bool] = False
    # the sent message is remembered as showing its tickets ("card") or asking ("clarify");
    # "anchor": it ends with the chain head, recorded as an `anchored` event once delivered
    TRACK: ClassVar[str | None] = None

    tickets: tuple[int, ...] = ()
    reply_to: int | None = None
    thread: int | None = None  # the forum topic to post in (None: the chat's default)

    def without_tickets(self) -> Notice:
        """The notice less its tickets (what must be equal for two to merge)."""
        return replace(self, tickets=())


# ---- tickets and their cards ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Card(Notice):
    """New tickets (`tickets`) and those the same report named while already open (`dup`)."""

    KIND: ClassVar[str] = "card"
    TRACK: ClassVar[str | None] = "card"
    dup: tuple[int, ...] = ()
    album: str | None = None  # the media_group_id of an album: its members share one card


@dataclass(frozen=True, slots=True, kw_only=True)
class Refresh(Notice):
    """Edit a card in place to show its tickets as they are now."""

    KIND: ClassVar[str] = "refresh"
    message_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateReply(Notice):
    """The report's links are already tracked."""

    KIND: ClassVar[str] = "duplicate"


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkHint(Notice):
    """A message that looks like a report but holds no Telegram link."""

    KIND: ClassVar[str] = "hint_no_telegram_link"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedNotice(Notice):
    """The reporter is told their ticket was closed, and how."""

    KIND: ClassVar[str] = "closed_notice"
    status: str
    outcome: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClarifyQuestion(Notice):
    """A moderator's question to the reporter."""

    KIND: ClassVar[str] = "clarify_question"
    TRACK: ClassVar[str | None] = "clarify"
    question: str
    reporter: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClarifiedNotice(Notice):
    """The reporter answered: the ticket's clocks run again."""

    KIND: ClassVar[str] = "clarified"
    paused_seconds: int = 0
    people: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignedPing(Notice):
    """A ticket was handed to someone: mention them."""

    KIND: ClassVar[str] = "assigned_ping"
    people: tuple[int, ...] = ()


# ---- escalation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AckReminder(Notice):
    """Not acknowledged in time: the on-call moderator again, and the backup."""

    KIND: ClassVar[str] = "ack_reminder"
    MERGEABLE: ClassVar[bool] = True
    people: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueAlert(Notice):
    """Past the deadline: supervisors."""

    KIND: ClassVar[str] = "overdue"
    MERGEABLE: ClassVar[bool] = True
    people: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NoOnCall(Notice):
    """New tickets and nobody on call: supervisors."""

    KIND: ClassVar[str] = "no_oncall"
    MERGEABLE: ClassVar[bool] = True
    people: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OnCallUnreachable(Notice):
    """New tickets and the on-call moderator cannot be reached: supervisors."""

    KIND: ClassVar[str] = "oncall_unreachable"
    MERGEABLE: ClassVar[bool] = True
    people: tuple[int, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DmNew(Notice):
    """Direct message to the on-call moderator: new tickets."""

    KIND: ClassVar[str] = "dm_new"
    MERGEABLE: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DmReminder(Notice):
    """Direct message: tickets waiting for acknowledgement."""

    KIND: ClassVar[str] = "dm_reminder"
    MERGEABLE: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DmAssigned(Notice):
    """Direct message: a ticket was handed to you."""

    KIND: ClassVar[str] = "dm_assigned"


# ---- the calendar -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Handoff(Notice):
    """A shift change: who hands over to whom, and the open tickets nearest their deadline
    (`tickets`, at most ten of `open`)."""

    KIND: ClassVar[str] = "handoff"
    from_id: int | None = None
    to_id: int | None = None
    until: str  # ISO 8601 instant: the new shift's end
    open: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest(Notice):
    """The daily digest of open and overdue tickets; it ends with the chain head."""

    KIND: ClassVar[str] = "digest"
    TRACK: ClassVar[str | None] = "anchor"
    day: str  # ISO local date


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorNotice(Notice):
    """`/anchor`: the chain head now (SPEC "Proof")."""

    KIND: ClassVar[str] = "anchor"
    TRACK: ClassVar[str | None] = "anchor"


# ---- answers to commands ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackReply(Notice):
    """What a command did, one line per ticket."""

    KIND: ClassVar[str] = "feedback"
    items: tuple[Feedback, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage(Notice):
    """How to use a command."""

    KIND: ClassVar[str] = "usage"
    cmd: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Help(Notice):
    """The commands of the sender's role."""

    KIND: ClassVar[str] = "help"
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OnCallInfo(Notice):
    """Who is on call now and until when, and who is next."""

    KIND: ClassVar[str] = "oncall_info"


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenList(Notice):
    """Open tickets, most urgent deadline first."""

    KIND: ClassVar[str] = "open_list"


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketDetail(Notice):
    """A card with its whole history."""

    KIND: ClassVar[str] = "ticket_detail"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReply(Notice):
    """`/stats`: the figures of the last `days` days."""

    KIND: ClassVar[str] = "stats"
    days: int = 7


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFiles(Notice):
    """`/report`: a chart and a CSV of the last `days` days."""

    KIND: ClassVar[str] = "report"
    days: int = 7


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportFile(Notice):
    """`/export`: the JSON export of the last `days` days."""

    KIND: ClassVar[str] = "export"
    days: int = 7


# ---- chats --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DmStarted(Notice):
    """A rostered person started the bot."""

    KIND: ClassVar[str] = "dm_started"
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NotServed(Notice):
    """A direct message from someone the bot does not serve."""

    KIND: ClassVar[str] = "not_served"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMigrated(Notice):
    """The liaison group became a supergroup: the setting to change."""

    KIND: ClassVar[str] = "chat_migrated"
    new: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyWarning(Notice):
    """The bot cannot read plain group messages: how to fix it."""

    KIND: ClassVar[str] = "privacy_warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Leave(Notice):
    """Say why, then leave a group the bot does not serve."""

    KIND: ClassVar[str] = "leave"


# ---- orders (documents of links) -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSummary(Notice):
    """An order was taken: its number, new tickets, those already open, repeats within the
    file, and the places (line numbers, `Sheet!A1`) that held no Telegram link."""

    KIND: ClassVar[str] = "order_summary"
    order: int
    new: tuple[int, ...] = ()
    dup: tuple[int, ...] = ()
    repeats: int = 0
    without: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRefusal(Notice):
    """A document was not taken as an order (one-line reason, a bot.domain.orders.Refusal)."""

    KIND: ClassVar[str] = "order_refusal"
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderProgress(Notice):
    """`/order N`: the order's tickets by status, the overdue ones, the share closed in time."""

    KIND: ClassVar[str] = "order_progress"
    order: int


NOTICES: dict[str, type[Notice]] = {
    cls.KIND: cls
    for cls in (
        Card,
        Refresh,
        OrderSummary,
        OrderRefusal,
        OrderProgress,
        DuplicateReply,
        LinkHint,
        ClosedNotice,
        ClarifyQuestion,
        ClarifiedNotice,
        AssignedPing,
        AckReminder,
        OverdueAlert,
        NoOnCall,
        OnCallUnreachable,
        DmNew,
        DmReminder,
        DmAssigned,
        Handoff,
        Digest,
        AnchorNotice,
        FeedbackReply,
        Usage,
        Help,
        OnCallInfo,
        OpenList,
        TicketDetail,
        StatsReply,
        ReportFiles,
        ExportFile,
        DmStarted,
        NotServed,
        ChatMigrated,
        PrivacyWarning,
        Leave,
    )
}


# ---- stored form --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Feedback):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def to_payload(notice: Notice) -> dict[str, Any]:
    """A notice's fields as JSON-native values (defaults left out)."""
    out: dict[str, Any] = {}
    for f in fields(notice):
        value = getattr(notice, f.name)
        if value != f.default:
            out[f.name] = _plain(value)
    return out


def _feedback(data: dict[str, Any]) -> Feedback:
    return Feedback(
        key=Answer(data["key"]),
        ticket=data.get("ticket"),
        name=data.get("name", ""),
        changed=bool(data.get("changed", False)),
        shown_in=data.get("shown_in"),
    )


# each notice class's field names and types, resolved once (resolving them per row cost
# 150 µs, and the sender reads many rows)
_SHAPES: dict[str, tuple[frozenset[str], dict[str, Any]]] = {
    kind: (frozenset(f.name for f in fields(cls)), typing.get_type_hints(cls))
    for kind, cls in NOTICES.items()
}


def from_payload(kind: str, payload: dict[str, Any]) -> Notice:
    """The notice of a stored outbox row; raises ValueError for an unknown kind or field."""
    cls = NOTICES.get(kind)
    if cls is None:
        raise ValueError(f"unknown notice kind {kind!r}")
    known, hints = _SHAPES[kind]
    values: dict[str, Any] = {}
    for name, value in payload.items():
        if name not in known:
            raise ValueError(f"{kind}: unknown field {name!r}")
        if hints[name] == tuple[Feedback, ...]:
            value = tuple(_feedback(v) for v in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # a required field missing
        raise ValueError(f"{kind}: {exc}") from exc
