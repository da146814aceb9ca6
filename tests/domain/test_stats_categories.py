"""Figures per category on a hand-built history; every expected value is worked out below.

Built-in windows (agreed / legal): terrorism 1h / 4h, gambling 4h / 4h, other 4h / 24h;
`#urgent` caps the agreed window at 1h. No events: time to close = closed − created.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from bot.domain.stats import CategoryFigures, History, Share, Spread, compute_stats
from bot.domain.tickets import Outcome, Status, Ticket
from tests.domain.test_stats import JAKARTA, NOW, POLICY, SINCE, nov, ticket

M = timedelta(minutes=1)
H = timedelta(hours=1)


def closed(
    id: int, category: str, created: tuple[int, int], took: timedelta, urgent: bool = False
) -> Ticket:
    start = nov(*created)
    t = ticket(
        id,
        start,
        status=Status.REMOVED,
        urgent=urgent,
        closed=start + took,
        outcome=Outcome.REMOVED,
    )
    return dataclasses.replace(t, category=category)


def open_(
    id: int, category: str, created: tuple[int, int], paused_at: datetime | None = None
) -> Ticket:
    return dataclasses.replace(ticket(id, nov(*created), paused_at=paused_at), category=category)


# now = 24 Nov 10:00 UTC
TICKETS = [
    # terrorism (1h / 4h)
    closed(1, "terrorism", (23, 1), 30 * M),  # agreed yes, legal yes
    closed(2, "terrorism", (23, 2), 2 * H),  # agreed no, legal yes
    closed(3, "terrorism", (23, 3), 5 * H),  # agreed no, legal no
    open_(4, "terrorism", (24, 7)),  # 3h open: past agreed (counted, not within); legal: left out
    open_(5, "terrorism", (24, 9)),  # 1h open: on the agreed limit (counted); legal: left out
    # gambling (4h / 4h; urgent: agreed 1h)
    closed(6, "gambling", (23, 5), 90 * M, urgent=True),  # agreed (1h) no, legal yes
    open_(7, "gambling", (23, 10)),  # 24h open: past both windows
    open_(8, "gambling", (24, 5), paused_at=nov(24, 7)),  # 5h, 3h of it paused: 2h: left out
    # other (4h / 24h); a key the table no longer has counts as the default category
    closed(9, "retired", (23, 12), 3 * H),  # agreed yes, legal yes
    closed(10, "other", (23, 13), 6 * H),  # agreed no, legal yes
]

EXPECTED = [
    # terrorism: closes 30m, 2h, 5h: median 2h; p90 rank ceil(2.7) = 3: 5h
    # agreed: 1 within of 3 closed + #4 + #5; legal: 2 within of 3 closed
    CategoryFigures("terrorism", 5, Spread(3, 2 * H, 5 * H), Share(1, 5), Share(2, 3)),
    # gambling: one close of 1h30m; agreed: 0 of #6, #7; legal: 1 (#6) of #6, #7
    CategoryFigures("gambling", 3, Spread(1, 90 * M, 90 * M), Share(0, 2), Share(1, 2)),
    # other: closes 3h, 6h: median 4h30m; p90 rank ceil(1.8) = 2: 6h
    CategoryFigures("other", 2, Spread(2, 4 * H + 30 * M, 6 * H), Share(1, 2), Share(2, 2)),
]


def stats() -> list[CategoryFigures]:
    histories = [History(t, []) for t in TICKETS]
    s = compute_stats(histories, reports=10, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    return list(s.by_category)


def test_only_categories_with_tickets_in_table_order() -> None:
    assert [c.key for c in stats()] == ["terrorism", "gambling", "other"]


@pytest.mark.parametrize("expected", EXPECTED, ids=[c.key for c in EXPECTED])
def test_figures_of_one_category(expected: CategoryFigures) -> None:
    assert {c.key: c for c in stats()}[expected.key] == expected


def test_agreed_shares_add_up_to_within_deadline() -> None:
    histories = [History(t, []) for t in TICKETS]
    s = compute_stats(histories, reports=10, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    agreed = [c.within_agreed for c in s.by_category]
    assert s.within_deadline == Share(sum(a.within for a in agreed), sum(a.total for a in agreed))
    assert Share(1, 5).ratio == 0.2


def test_no_tickets_no_categories() -> None:
    s = compute_stats([], reports=0, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    assert s.by_category == ()
