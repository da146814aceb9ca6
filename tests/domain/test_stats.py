"""/stats figures on a hand-built timeline, each expected value worked out by hand below."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.events import Event, parse_legacy
from bot.domain.stats import (
    Day,
    Escalations,
    History,
    Overdue,
    Pauses,
    Share,
    Spread,
    clock_start,
    compute_stats,
    median,
    p90,
    pauses_of,
    time_to_acknowledge,
    time_to_close,
)
from bot.domain.tickets import Outcome, Status, Ticket, standard_policy

JAKARTA = ZoneInfo("Asia/Jakarta")  # UTC+7, no daylight saving
POLICY = standard_policy(
    ack=timedelta(minutes=15),
    resolve=timedelta(hours=4),
    urgent=timedelta(hours=1),
    repeat=timedelta(hours=1),
)
M = timedelta(minutes=1)
H = timedelta(hours=1)
SINCE = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # 23 Nov 00:00 WIB
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 24 Nov 17:00 WIB


def legacy(t: Ticket, entries: list[tuple[datetime, str, str]]) -> History:
    """A history written as (at, kind, sentence), read as the previous release wrote it."""
    return History(t, [Event(t.id, at, None, parse_legacy(k, d), d) for at, k, d in entries])


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def ticket(
    id: int,
    created: datetime,
    *,
    status: Status = Status.OPEN,
    urgent: bool = False,
    ack: datetime | None = None,
    closed: datetime | None = None,
    outcome: Outcome | None = None,
    clock_start_at: datetime | None = None,
    paused_at: datetime | None = None,
    paused_total: timedelta = timedelta(0),
) -> Ticket:
    return Ticket(
        id=id,
        link=f"https://t.me/chan/{id}",
        link_key=f"t.me/chan/{id}",
        channel="chan",
        status=status,
        urgent=urgent,
        reporter_id=7,
        chat_id=-100,
        report_message_id=id,
        assignee_id=None,
        report_count=1,
        created_at=created,
        clock_start_at=clock_start_at or created,
        acknowledged_at=ack,
        closed_at=closed,
        outcome=outcome,
        reopened_from=None,
        paused_at=paused_at,
        paused_total=paused_total,
        esc_step=0,
        last_escalated_at=None,
        card_message_id=None,
    )


def timeline() -> list[History]:
    """Eight tickets of the period 23–24 Nov (local), times in UTC."""
    return [
        # 1: normal; ack after 10m, removed after 2h
        legacy(
            ticket(
                1,
                nov(23, 2),
                status=Status.REMOVED,
                ack=nov(23, 2, 10),
                closed=nov(23, 4),
                outcome=Outcome.REMOVED,
            ),
            [
                (nov(23, 2), "created", "https://t.me/chan/1"),
                (nov(23, 2, 10), "acknowledged", ""),
                (nov(23, 4), "removed", "removed"),
            ],
        ),
        # 2: normal; ack reminder, ack after 20m, a 1h pause, banned 5h after creation
        legacy(
            ticket(
                2,
                nov(23, 3),
                status=Status.REMOVED,
                ack=nov(23, 3, 20),
                closed=nov(23, 8),
                outcome=Outcome.BANNED,
                paused_total=H,
            ),
            [
                (nov(23, 3), "created", "https://t.me/chan/2"),
                (nov(23, 3, 15), "escalated", "step 1: ack_reminder"),
                (nov(23, 3, 20), "acknowledged", ""),
                (nov(23, 3, 30), "clarification", "which post?"),
                (nov(23, 4, 30), "clarified", "the second one"),
                (nov(23, 8), "removed", "banned"),
            ],
        ),
        # 3: urgent; ack after 5m, overdue at 1h, restricted after 1h30m
        legacy(
            ticket(
                3,
                nov(23, 5),
                status=Status.REMOVED,
                urgent=True,
                ack=nov(23, 5, 5),
                closed=nov(23, 6, 30),
                outcome=Outcome.RESTRICTED,
            ),
            [
                (nov(23, 5), "created", "https://t.me/chan/3 (urgent)"),
                (nov(23, 5, 5), "acknowledged", ""),
                (nov(23, 6), "escalated", "step 2: overdue"),
                (nov(23, 6, 30), "removed", "restricted"),
            ],
        ),
        # 4: normal; paused 30m before the ack (06:10-06:40), ack 06:50, rejected 07:00
        legacy(
            ticket(
                4,
                nov(23, 6),
                status=Status.REJECTED,
                ack=nov(23, 6, 50),
                closed=nov(23, 7),
                outcome=Outcome.REJECTED,
                paused_total=30 * M,
            ),
            [
                (nov(23, 6), "created", "https://t.me/chan/4"),
                (nov(23, 6, 10), "clarification", "source?"),
                (nov(23, 6, 40), "clarified", "here"),
                (nov(23, 6, 50), "acknowledged", ""),
                (nov(23, 7), "rejected", "rejected: not propaganda"),
            ],
        ),
        # 5: removed on the 23rd, reopened 24 Nov 01:00, ack 01:30, removed again 03:00
        legacy(
            ticket(
                5,
                nov(23, 8),
                status=Status.REMOVED,
                ack=nov(24, 1, 30),
                closed=nov(24, 3),
                outcome=Outcome.REMOVED,
                clock_start_at=nov(24, 1),
            ),
            [
                (nov(23, 8), "created", "https://t.me/chan/5"),
                (nov(23, 8, 5), "acknowledged", ""),
                (nov(23, 9), "removed", "removed"),
                (nov(24, 1), "reopened", "it is back"),
                (nov(24, 1, 15), "escalated", "step 1: ack_reminder"),
                (nov(24, 1, 30), "acknowledged", ""),
                (nov(24, 3), "removed", "removed"),
            ],
        ),
        # 6: normal, never acknowledged: deadline 08:00, so 2h overdue at 10:00
        legacy(
            ticket(6, nov(24, 4)),
            [
                (nov(24, 4), "created", "https://t.me/chan/6"),
                (nov(24, 4, 15), "escalated", "step 1: ack_reminder"),
                (nov(24, 8), "escalated", "step 2: overdue"),
                (nov(24, 9), "escalated", "step 3: overdue_repeat, 3600s past the deadline"),
            ],
        ),
        # 7: acknowledged after 10m, not due until 13:00
        legacy(
            ticket(7, nov(24, 9), status=Status.ACKNOWLEDGED, ack=nov(24, 9, 10)),
            [(nov(24, 9), "created", "https://t.me/chan/7"), (nov(24, 9, 10), "acknowledged", "")],
        ),
        # 8: urgent, nobody on call, waiting for the reporter since 08:40 (pause still running)
        legacy(
            ticket(
                8,
                nov(24, 8, 30),
                status=Status.CLARIFICATION,
                urgent=True,
                paused_at=nov(24, 8, 40),
            ),
            [
                (nov(24, 8, 30), "created", "https://t.me/chan/8 (urgent)"),
                (nov(24, 8, 30), "escalated", "nobody on call: supervisors"),
                (nov(24, 8, 40), "clarification", "is this the right post?"),
            ],
        ),
    ]


# an open ticket from before the period, 44h past its deadline (22 Nov 14:00 UTC)
OLD_OPEN = ticket(99, nov(22, 10))


def test_counts() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    assert (s.reports, s.tickets, s.closed, s.open) == (11, 8, 5, 3)
    assert dict(s.by_status) == {
        Status.OPEN: 1,  # 6
        Status.ACKNOWLEDGED: 1,  # 7
        Status.CLARIFICATION: 1,  # 8
        Status.REMOVED: 4,  # 1 2 3 5
        Status.REJECTED: 1,  # 4
    }
    assert dict(s.by_outcome) == {
        Outcome.REMOVED: 2,  # 1 5
        Outcome.BANNED: 1,  # 2
        Outcome.RESTRICTED: 1,  # 3
        Outcome.GONE: 0,
        Outcome.REJECTED: 1,  # 4
    }
    assert s.reopened == 1  # 5


def test_time_to_acknowledge() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # 1: 10m · 2: 20m · 3: 5m · 4: 50m - 30m pause = 20m · 5: 30m after reopening · 7: 10m
    acks = sorted([10 * M, 20 * M, 5 * M, 50 * M - 30 * M, 30 * M, 10 * M])
    assert acks == [5 * M, 10 * M, 10 * M, 20 * M, 20 * M, 30 * M]
    # n = 6: median = mean of the 3rd and 4th; p90 = rank ceil(0.9 * 6) = ceil(5.4) = 6
    assert s.to_acknowledge == Spread(6, (10 * M + 20 * M) / 2, acks[6 - 1])
    assert s.to_acknowledge.median == 15 * M
    assert s.to_acknowledge.p90 == 30 * M


def test_time_to_close() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # 1: 2h · 2: 5h - 1h pause = 4h · 3: 1h30m · 4: 1h - 30m pause = 30m · 5: 2h after reopening
    closes = sorted([2 * H, 5 * H - H, H + 30 * M, H - 30 * M, 2 * H])
    assert closes == [30 * M, 90 * M, 2 * H, 2 * H, 4 * H]
    # n = 5: median = the 3rd; p90 = rank ceil(0.9 * 5) = ceil(4.5) = 5
    assert s.to_close == Spread(5, closes[2], closes[5 - 1])
    assert (s.to_close.median, s.to_close.p90) == (2 * H, 4 * H)


def test_share_within_deadline() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # normal (4h): 1 (2h) yes, 2 (4h, on the limit) yes, 4 (30m) yes, 5 (2h) yes,
    # 6 (open, overdue) no; 7 is open and not due: not counted
    assert s.within_normal == Share(4, 5)
    # urgent (1h): 3 (1h30m) no; 8 is paused, not overdue: not counted
    assert s.within_urgent == Share(0, 1)
    assert s.within_deadline == Share(4 + 0, 5 + 1)
    assert s.within_deadline.ratio == 4 / 6
    assert s.within_urgent.ratio == 0.0


def test_clarification_pauses() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # 2: 03:30-04:30 = 1h · 4: 06:10-06:40 = 30m · 8: 08:40-now 10:00 = 1h20m (running)
    pauses = sorted([H, 30 * M, 80 * M])
    assert s.pauses == Pauses(3, H + 30 * M + 80 * M, pauses[1])
    assert s.pauses.total == 2 * H + 50 * M


def test_overdue_now() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # 6: created 04:00 + 4h = 08:00 deadline, now 10:00 -> 2h; 8's pause moves its deadline
    assert s.overdue == Overdue(1, 6, NOW - (nov(24, 4) + 4 * H))
    assert s.overdue.oldest_by == 2 * H


def test_overdue_now_counts_older_open_tickets() -> None:
    s = compute_stats(
        timeline(),
        reports=11,
        since=SINCE,
        now=NOW,
        policy=POLICY,
        zone=JAKARTA,
        open_now=[OLD_OPEN, timeline()[5].ticket],  # 6 twice: counted once
    )
    # 99: 22 Nov 10:00 + 4h = 22 Nov 14:00; to 24 Nov 10:00 is 44h
    assert s.overdue == Overdue(2, 99, 44 * H)
    assert s.tickets == 8  # the period itself is unchanged
    assert s.within_deadline == Share(4, 6)


def test_escalations() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # reminders: 2, 5, 6 · overdue: 3, 6 · repeats: 6 · nobody on call: 8
    assert s.escalations == Escalations(
        ack_reminder=3, overdue=2, overdue_repeat=1, nobody_on_call=1
    )
    assert s.escalations.total == 7


def test_daily_in_local_days() -> None:
    s = compute_stats(timeline(), reports=11, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    # 23 Nov WIB = 22 Nov 17:00 .. 23 Nov 17:00 UTC: created 1-5; closed 1 (2h), 2 (4h),
    # 3 (1h30m), 4 (30m) -> sorted 30m, 1h30m, 2h, 4h: median = (1h30m + 2h) / 2 = 1h45m
    # 24 Nov WIB: created 6, 7, 8; closed 5 (2h, after its reopening) -> median 2h
    assert s.daily == (
        Day(date(2026, 11, 23), 5, 4, (90 * M + 2 * H) / 2),
        Day(date(2026, 11, 24), 3, 1, 2 * H),
    )
    assert s.daily[0].median_close == H + 45 * M


def test_empty_period() -> None:
    s = compute_stats([], reports=0, since=SINCE, now=NOW, policy=POLICY, zone=JAKARTA)
    assert (s.reports, s.tickets, s.closed, s.open, s.reopened) == (0, 0, 0, 0, 0)
    assert set(s.by_status.values()) == {0}
    assert set(s.by_outcome.values()) == {0}
    assert s.to_acknowledge == Spread(0, None, None)
    assert s.to_close == Spread(0, None, None)
    assert s.within_deadline == Share(0, 0)
    assert s.within_deadline.ratio is None
    assert s.within_urgent.ratio is None
    assert s.pauses == Pauses(0, timedelta(0), None)
    assert s.overdue == Overdue(0, None, None)
    assert s.escalations == Escalations()
    assert s.daily == (
        Day(date(2026, 11, 23), 0, 0, None),
        Day(date(2026, 11, 24), 0, 0, None),
    )


# ---- the pieces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected_median", "expected_p90"),
    [
        ([7], 7, 7),
        ([1, 2], 1.5, 2),  # ceil(1.8) = 2
        ([3, 1, 2], 2, 3),  # ceil(2.7) = 3
        (list(range(1, 11)), 5.5, 9),  # ceil(9.0) = 9: exactly 9, not 10
        (list(range(1, 21)), 10.5, 18),  # ceil(18.0) = 18
        (list(range(1, 12)), 6, 10),  # ceil(9.9) = 10
    ],
)
def test_median_and_nearest_rank_p90(
    minutes: list[int], expected_median: float, expected_p90: int
) -> None:
    values = [m * M for m in minutes]
    assert median(values) == expected_median * M
    assert p90(values) == expected_p90 * M


def test_median_and_p90_of_nothing() -> None:
    assert median([]) is None
    assert p90([]) is None


def test_a_second_question_does_not_restart_the_pause() -> None:
    h = legacy(
        ticket(1, nov(23, 2), status=Status.REMOVED, ack=nov(23, 2), closed=nov(23, 5)),
        [
            (nov(23, 2, 10), "clarification", "a"),
            (nov(23, 2, 20), "clarification", "b"),
            (nov(23, 2, 40), "clarified", ""),
            (nov(23, 3), "clarification", "c"),
            (nov(23, 3, 15), "removed", "gone"),  # closing ends a pause
        ],
    )
    assert pauses_of(h, NOW) == [(nov(23, 2, 10), nov(23, 2, 40)), (nov(23, 3), nov(23, 3, 15))]
    # 3h - 30m - 15m
    assert time_to_close(h, NOW) == 3 * H - 45 * M


def test_pauses_before_a_reopening_leave_the_new_clock_alone() -> None:
    h = legacy(
        ticket(
            1,
            nov(23, 2),
            status=Status.REMOVED,
            ack=nov(23, 6, 5),
            closed=nov(23, 7),
            clock_start_at=nov(23, 6),
        ),
        [
            (nov(23, 2), "created", ""),
            (nov(23, 2, 10), "clarification", "?"),
            (nov(23, 3), "clarified", ""),
            (nov(23, 4), "removed", ""),
            (nov(23, 6), "reopened", "back"),
            (nov(23, 6, 5), "acknowledged", ""),
            (nov(23, 7), "removed", ""),
        ],
    )
    assert clock_start(h) == nov(23, 6)
    assert time_to_acknowledge(h, NOW) == 5 * M
    assert time_to_close(h, NOW) == H


def test_content_back_ticket_starts_its_clock_at_creation() -> None:
    h = legacy(
        ticket(2, nov(23, 2)),
        [(nov(23, 2), "created", ""), (nov(23, 2), "reopened", "content back: #1")],
    )
    assert clock_start(h) == nov(23, 2)
    assert time_to_acknowledge(h, NOW) is None
    assert time_to_close(h, NOW) is None
