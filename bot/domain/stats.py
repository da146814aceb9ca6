"""Figures for `/stats` and `/report`: a pure function of a period's tickets and histories.

Definitions:
- Period: the tickets created from `since` up to `now`; every figure below is about them,
  except "overdue now", which also counts older tickets still open.
- Clock start: a ticket's creation, or the time of its last `reopened` event for a reopened
  ticket (reopening starts fresh clocks).
- Clarification pause: from a `clarification` event to the next `clarified`, `removed` or
  `rejected` event; a pause still running counts up to now. Pauses are excluded from both
  clocks below.
- Time to acknowledge: acknowledged_at − clock start, minus the pauses between the two.
- Time to close: closed_at − clock start, minus the pauses between the two.
- Median: `statistics.median` (the mean of the two middle values for an even count).
- p90: nearest rank, the value at rank ⌈0.9·n⌉ of the n values sorted ascending.
- Within deadline: a closed ticket whose time to close is at most its window (the urgent
  window for urgent tickets, the resolve window otherwise). The share's denominator is the
  period's tickets that are closed or already overdue; open tickets not yet due are left
  out. Urgent and normal tickets are also counted apart.
- Per category (the ticket's category of the policy's table; an unknown key is the default
  one), in table order, only the categories with tickets in the period: the count, the
  spread of time to close, and two shares. Within agreed: closed with a time to close at
  most the ticket's agreed window (`policy.agreed`: the category's, capped for urgent
  tickets); within legal: at most its legal window (`policy.legal`). Each share's
  denominator is the category's tickets that are closed or already past that window at
  `now` (pauses move it); an open ticket not yet past the window is left out.
- Overdue now: open tickets past their deadline (pauses move it) at `now`; the oldest is
  the one furthest past its deadline.
- Escalations: `escalated` events by their reason: ack reminder, overdue, overdue repeat,
  "nobody on call" and "on call not reachable" (new tickets sent straight to supervisors).
- Reopened: tickets with a `reopened` event (`/reopen`, or a new ticket for content whose
  earlier ticket was closed).
- Daily: per local calendar day, the tickets created that day, and the median time to
  close of the tickets closed that day.
- An empty figure (no values, or a denominator of zero) is None, never a division by zero.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.events import (
    ClarificationAsked,
    Clarified,
    Escalated,
    Escalation,
    Event,
    Rejected,
    Removed,
    Reopened,
)
from bot.domain.tickets import (
    EscalationPolicy,
    Outcome,
    Status,
    Ticket,
    effective_deadline,
    is_overdue,
    resolve_window,
)

__all__ = [
    "CategoryFigures",
    "Day",
    "Escalations",
    "History",
    "Overdue",
    "Pauses",
    "Share",
    "Spread",
    "Stats",
    "clock_start",
    "compute_stats",
    "median",
    "p90",
    "pauses_of",
    "time_to_acknowledge",
    "time_to_close",
]

_ZERO = timedelta(0)
_MICRO = timedelta(microseconds=1)


# ---- input ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """A ticket as it stands now, with its events."""

    ticket: Ticket
    events: Sequence[Event]


# ---- output --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    """How a set of durations is spread: count, median and p90 (None when empty)."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True, slots=True)
class Share:
    """`within` out of `total`."""

    within: int
    total: int

    @property
    def ratio(self) -> float | None:
        """within / total, or None when there is nothing to count."""
        return self.within / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class Pauses:
    """Clarification pauses: how many, how long in all, the median one."""

    count: int
    total: timedelta
    median: timedelta | None


@dataclass(frozen=True, slots=True)
class Overdue:
    """Open tickets past their deadline now, and the one furthest past it."""

    count: int
    oldest_id: int | None
    oldest_by: timedelta | None


@dataclass(frozen=True, slots=True)
class Escalations:
    """Escalation steps fired, by kind."""

    ack_reminder: int = 0
    overdue: int = 0
    overdue_repeat: int = 0
    nobody_on_call: int = 0
    unreachable: int = 0  # new tickets whose on-call moderator could not be reached

    @property
    def total(self) -> int:
        """Every step together."""
        return (
            self.ack_reminder
            + self.overdue
            + self.overdue_repeat
            + self.nobody_on_call
            + self.unreachable
        )


@dataclass(frozen=True, slots=True)
class Day:
    """One local day: tickets created, tickets closed and their median time to close."""

    day: date
    tickets: int
    closed: int
    median_close: timedelta | None


@dataclass(frozen=True, slots=True)
class CategoryFigures:
    """One category's figures: tickets, time to close, shares within its two windows."""

    key: str
    tickets: int
    to_close: Spread
    within_agreed: Share
    within_legal: Share


@dataclass(frozen=True, slots=True)
class Stats:
    """Every figure of `/stats` and `/report` for one period."""

    since: datetime
    now: datetime
    policy: EscalationPolicy
    reports: int
    tickets: int
    by_status: Mapping[Status, int]
    by_outcome: Mapping[Outcome, int]
    to_acknowledge: Spread
    to_close: Spread
    within_deadline: Share
    within_urgent: Share
    within_normal: Share
    pauses: Pauses
    overdue: Overdue
    escalations: Escalations
    reopened: int
    daily: tuple[Day, ...]
    by_category: tuple[CategoryFigures, ...] = ()
    # tickets created per local day and category (the chart's stacked volume), day order
    daily_by_category: tuple[tuple[date, Mapping[str, int]], ...] = ()

    @property
    def closed(self) -> int:
        """Tickets of the period that are closed."""
        return sum(n for status, n in self.by_status.items() if status.closed)

    @property
    def open(self) -> int:
        """Tickets of the period still open."""
        return self.tickets - self.closed


# ---- the pieces ----------------------------------------------------------------------------


def median(values: Iterable[timedelta]) -> timedelta | None:
    """statistics.median of durations, or None when there are none."""
    micros = [v // _MICRO for v in values]
    if not micros:
        return None
    return timedelta(microseconds=statistics.median(micros))


def p90(values: Iterable[timedelta]) -> timedelta | None:
    """Nearest-rank 90th percentile: the value at rank ceil(0.9·n), or None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (9 * len(ordered) + 9) // 10  # ceil(0.9·n) in integers: no float rounding
    return ordered[rank - 1]


def _spread(values: Sequence[timedelta]) -> Spread:
    return Spread(len(values), median(values), p90(values))


def _entries(history: History) -> list[Event]:
    return sorted(history.events, key=lambda e: e.at)


def clock_start(history: History) -> datetime:
    """Creation, or the last `reopened` event's time."""
    reopenings = [e.at for e in _entries(history) if isinstance(e.fact, Reopened)]
    return max([history.ticket.created_at, *reopenings])


def pauses_of(history: History, now: datetime) -> list[tuple[datetime, datetime]]:
    """Clarification pauses as (start, end) intervals; a running one ends at `now`."""
    intervals: list[tuple[datetime, datetime]] = []
    started: datetime | None = None
    for entry in _entries(history):
        if isinstance(entry.fact, ClarificationAsked):
            started = started or entry.at  # a second question does not restart the pause
        elif isinstance(entry.fact, Clarified | Removed | Rejected) and started is not None:
            intervals.append((started, entry.at))
            started = None
    if started is not None:
        intervals.append((started, max(started, now)))
    return intervals


def _paused_between(
    pauses: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> timedelta:
    total = _ZERO
    for begin, finish in pauses:
        total += max(_ZERO, min(finish, end) - max(begin, start))
    return total


def _clock(history: History, end: datetime, now: datetime) -> timedelta:
    start = clock_start(history)
    elapsed = end - start - _paused_between(pauses_of(history, now), start, end)
    return max(_ZERO, elapsed)


def time_to_acknowledge(history: History, now: datetime) -> timedelta | None:
    """acknowledged_at − clock start − pauses, or None while unacknowledged."""
    at = history.ticket.acknowledged_at
    return None if at is None else _clock(history, at, now)


def time_to_close(history: History, now: datetime) -> timedelta | None:
    """closed_at − clock start − pauses, or None while open."""
    t = history.ticket
    if not t.is_closed or t.closed_at is None:
        return None
    return _clock(history, t.closed_at, now)


def _escalations(histories: Iterable[History]) -> Escalations:
    counts = dict.fromkeys(Escalation, 0)
    for history in histories:
        for entry in history.events:
            if isinstance(entry.fact, Escalated):
                counts[entry.fact.reason] += 1
    return Escalations(
        ack_reminder=counts[Escalation.ACK_REMINDER],
        overdue=counts[Escalation.OVERDUE],
        overdue_repeat=counts[Escalation.OVERDUE_REPEAT],
        nobody_on_call=counts[Escalation.NOBODY_ON_CALL],
        unreachable=counts[Escalation.UNREACHABLE],
    )


def _overdue(tickets: Iterable[Ticket], policy: EscalationPolicy, now: datetime) -> Overdue:
    late = {
        t.id: now - effective_deadline(t, policy, now)
        for t in tickets
        if is_overdue(t, policy, now)
    }
    if not late:
        return Overdue(0, None, None)
    oldest = min(late, key=lambda i: (-late[i], i))
    return Overdue(len(late), oldest, late[oldest])


def _days(since: datetime, now: datetime, zone: ZoneInfo) -> list[date]:
    first, last = since.astimezone(zone).date(), now.astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _daily(
    histories: Sequence[History],
    closes: Mapping[int, timedelta],
    since: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> tuple[Day, ...]:
    created: dict[date, int] = {}
    closed: dict[date, list[timedelta]] = {}
    for h in histories:
        t = h.ticket
        created_day = t.created_at.astimezone(zone).date()
        created[created_day] = created.get(created_day, 0) + 1
        if t.id in closes and t.closed_at is not None:
            closed.setdefault(t.closed_at.astimezone(zone).date(), []).append(closes[t.id])
    return tuple(
        Day(d, created.get(d, 0), len(closed.get(d, [])), median(closed.get(d, [])))
        for d in _days(since, now, zone)
    )


def _daily_by_category(
    histories: Sequence[History], since: datetime, now: datetime, zone: ZoneInfo
) -> tuple[tuple[date, Mapping[str, int]], ...]:
    counts: dict[date, dict[str, int]] = {}
    for h in histories:
        day = counts.setdefault(h.ticket.created_at.astimezone(zone).date(), {})
        day[h.ticket.category] = day.get(h.ticket.category, 0) + 1
    return tuple((d, counts.get(d, {})) for d in _days(since, now, zone))


def _past(ticket: Ticket, window: timedelta, now: datetime) -> bool:
    """An open ticket already past `window` from its clock start (pauses move it)."""
    if ticket.is_closed:
        return False
    pause = now - ticket.paused_at if ticket.paused_at is not None else _ZERO
    return now >= ticket.clock_start_at + window + ticket.paused_total + pause


def _within(
    tickets: Iterable[Ticket],
    closes: Mapping[int, timedelta],
    window: Callable[[Ticket], timedelta],
    now: datetime,
) -> Share:
    within = total = 0
    for t in tickets:
        if t.id in closes:
            total += 1
            within += int(closes[t.id] <= window(t))
        elif _past(t, window(t), now):
            total += 1
    return Share(within, total)


def _by_category(
    tickets: Sequence[Ticket],
    closes: Mapping[int, timedelta],
    policy: EscalationPolicy,
    now: datetime,
) -> tuple[CategoryFigures, ...]:
    groups: dict[str, list[Ticket]] = {}
    for t in tickets:
        groups.setdefault(policy.category(t).key, []).append(t)
    return tuple(
        CategoryFigures(
            key=key,
            tickets=len(group),
            to_close=_spread([closes[t.id] for t in group if t.id in closes]),
            within_agreed=_within(group, closes, policy.agreed, now),
            within_legal=_within(group, closes, policy.legal, now),
        )
        for key in policy.categories.keys
        if (group := groups.get(key))
    )


# ---- all together --------------------------------------------------------------------------


def compute_stats(
    histories: Sequence[History],
    *,
    reports: int,
    since: datetime,
    now: datetime,
    policy: EscalationPolicy,
    zone: ZoneInfo,
    open_now: Sequence[Ticket] = (),
) -> Stats:
    """Every figure for the tickets created in [since, now] (`open_now`: any still open)."""
    tickets = [h.ticket for h in histories]
    acks = [d for h in histories if (d := time_to_acknowledge(h, now)) is not None]
    closes = {h.ticket.id: d for h in histories if (d := time_to_close(h, now)) is not None}

    within = {True: [0, 0], False: [0, 0]}  # urgent -> [within, total]
    for t in tickets:
        if t.id in closes:
            counted = within[t.urgent]
            counted[1] += 1
            counted[0] += int(closes[t.id] <= resolve_window(t, policy))
        elif is_overdue(t, policy, now):
            within[t.urgent][1] += 1
    urgent, normal = Share(*within[True]), Share(*within[False])

    pauses = [end - start for h in histories for start, end in pauses_of(h, now)]
    candidates = {t.id: t for t in [*tickets, *open_now] if not t.is_closed}

    return Stats(
        since=since,
        now=now,
        policy=policy,
        reports=reports,
        tickets=len(tickets),
        by_status={s: sum(1 for t in tickets if t.status is s) for s in Status},
        by_outcome={o: sum(1 for t in tickets if t.outcome is o) for o in Outcome},
        to_acknowledge=_spread(acks),
        to_close=_spread(list(closes.values())),
        within_deadline=Share(urgent.within + normal.within, urgent.total + normal.total),
        within_urgent=urgent,
        within_normal=normal,
        pauses=Pauses(len(pauses), sum(pauses, _ZERO), median(pauses)),
        overdue=_overdue(candidates.values(), policy, now),
        escalations=_escalations(histories),
        reopened=sum(1 for h in histories if any(isinstance(e.fact, Reopened) for e in h.events)),
        daily=_daily(histories, closes, since, now, zone),
        daily_by_category=_daily_by_category(histories, since, now, zone),
        by_category=_by_category(tickets, closes, policy, now),
    )
