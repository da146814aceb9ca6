"""The escalation step policy as a pure function of (ticket, policy, now)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.tickets import (
    Outcome,
    Status,
    StepKind,
    Ticket,
    deadline_at,
    due_steps,
    effective_deadline,
    is_overdue,
    next_due_at,
    standard_policy,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
POLICY = standard_policy(
    ack=timedelta(minutes=15),
    resolve=timedelta(hours=4),
    urgent=timedelta(hours=1),
    repeat=timedelta(hours=1),
)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def ticket(**changes: object) -> Ticket:
    base = Ticket(
        id=1,
        link="https://t.me/x/1",
        link_key="https://t.me/x/1",
        channel="x",
        status=Status.OPEN,
        urgent=False,
        reporter_id=7,
        chat_id=-100,
        report_message_id=5,
        assignee_id=None,
        report_count=1,
        created_at=T0,
        clock_start_at=T0,
        acknowledged_at=None,
        closed_at=None,
        outcome=None,
        reopened_from=None,
        paused_at=None,
        paused_total=timedelta(0),
        esc_step=0,
        last_escalated_at=None,
        card_message_id=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def kinds(t: Ticket, at: timedelta) -> list[tuple[int, str]]:
    return [(s.number, s.kind.value) for s in due_steps(t, POLICY, T0 + at)]


ACKED = {"status": Status.ACKNOWLEDGED, "acknowledged_at": T0 + 5 * M}
CLOSED = {"status": Status.REMOVED, "closed_at": T0 + 10 * M, "outcome": Outcome.REMOVED}


@pytest.mark.parametrize(
    ("changes", "at", "expected"),
    [
        ({}, 0 * M, []),
        ({}, 15 * M - timedelta(microseconds=1), []),
        ({}, 15 * M, [(1, "ack_reminder")]),
        ({}, 4 * H - M, [(1, "ack_reminder")]),
        ({}, 4 * H, [(1, "ack_reminder"), (2, "overdue")]),
        ({}, 5 * H, [(1, "ack_reminder"), (2, "overdue"), (3, "overdue_repeat")]),
        (
            {},
            7 * H + M,
            [
                (1, "ack_reminder"),
                (2, "overdue"),
                (3, "overdue_repeat"),
                (4, "overdue_repeat"),
                (5, "overdue_repeat"),
            ],
        ),
        # acknowledged in time: no reminder, the overdue step still comes
        (ACKED, 15 * M, []),
        (ACKED, 4 * H, [(2, "overdue")]),
        # steps already fired do not fire again
        ({"esc_step": 1}, 15 * M, []),
        ({"esc_step": 1}, 4 * H, [(2, "overdue")]),
        ({"esc_step": 2}, 4 * H + 59 * M, []),
        ({"esc_step": 2}, 5 * H, [(3, "overdue_repeat")]),
        ({"esc_step": 3, **ACKED}, 6 * H, [(4, "overdue_repeat")]),
        # urgent: closes in 1 h
        ({"urgent": True}, 59 * M, [(1, "ack_reminder")]),
        ({"urgent": True}, 1 * H, [(1, "ack_reminder"), (2, "overdue")]),
        # closed tickets never escalate
        (CLOSED, 10 * H, []),
        ({**CLOSED, "status": Status.REJECTED, "outcome": Outcome.REJECTED}, 10 * H, []),
        # paused (waiting for clarification): nothing fires
        ({"status": Status.CLARIFICATION, "paused_at": T0 + 10 * M}, 10 * H, []),
        # a finished pause moves every deadline by its length
        ({"paused_total": 30 * M}, 44 * M, []),
        ({"paused_total": 30 * M}, 45 * M, [(1, "ack_reminder")]),
        ({"paused_total": 30 * M, "esc_step": 1}, 4 * H + 29 * M, []),
        ({"paused_total": 30 * M, "esc_step": 1}, 4 * H + 30 * M, [(2, "overdue")]),
        # reopened: the clock starts again from the reopening
        ({"clock_start_at": T0 + 10 * H}, 10 * H + 14 * M, []),
        ({"clock_start_at": T0 + 10 * H}, 10 * H + 15 * M, [(1, "ack_reminder")]),
    ],
)
def test_due_steps(
    changes: dict[str, object], at: timedelta, expected: list[tuple[int, str]]
) -> None:
    assert kinds(ticket(**changes), at) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, T0 + 15 * M),
        (ACKED, T0 + 4 * H),
        ({"esc_step": 1}, T0 + 4 * H),
        ({"esc_step": 2}, T0 + 5 * H),
        ({"esc_step": 4}, T0 + 7 * H),
        ({"urgent": True, "esc_step": 1}, T0 + 1 * H),
        ({"paused_total": 10 * M}, T0 + 25 * M),
        (CLOSED, None),
        ({"status": Status.CLARIFICATION, "paused_at": T0}, None),
    ],
)
def test_next_due_at(changes: dict[str, object], expected: datetime | None) -> None:
    assert next_due_at(ticket(**changes), POLICY) == expected


def test_firing_each_due_step_once_walks_the_whole_ladder() -> None:
    """Minute by minute over 8 hours: every step fires exactly once, at its due minute."""
    t = ticket()
    fired: list[tuple[int, timedelta]] = []
    for minute in range(8 * 60 + 1):
        now = T0 + minute * M
        steps = due_steps(t, POLICY, now)
        for step in steps:
            fired.append((step.number, now - T0))
        if steps:
            t = dataclasses.replace(t, esc_step=steps[-1].number, last_escalated_at=now)
    assert fired == [(1, 15 * M), (2, 4 * H), (3, 5 * H), (4, 6 * H), (5, 7 * H), (6, 8 * H)]


def test_repeat_reports_how_late() -> None:
    steps = due_steps(ticket(esc_step=2), POLICY, T0 + 6 * H)
    assert [(s.kind, s.overdue_by) for s in steps] == [
        (StepKind.REPEAT, 1 * H),
        (StepKind.REPEAT, 2 * H),
    ]


def test_overdue_and_effective_deadline_count_a_running_pause() -> None:
    t = ticket(status=Status.CLARIFICATION, paused_at=T0 + 1 * H)
    assert deadline_at(t, POLICY) == T0 + 4 * H
    assert effective_deadline(t, POLICY, T0 + 3 * H) == T0 + 6 * H
    assert not is_overdue(t, POLICY, T0 + 5 * H)
    assert is_overdue(ticket(), POLICY, T0 + 4 * H)
    assert not is_overdue(ticket(**CLOSED), POLICY, T0 + 9 * H)


def test_a_close_deadline_shorter_than_the_ack_deadline_escalates_first() -> None:
    policy = standard_policy(ack=15 * M, resolve=4 * H, urgent=10 * M, repeat=H)
    t = ticket(urgent=True)
    assert next_due_at(t, policy) == T0 + 10 * M
    assert [s.kind for s in due_steps(t, policy, T0 + 10 * M)] == [StepKind.OVERDUE]
    assert [s.kind for s in due_steps(t, policy, T0 + 70 * M)] == [
        StepKind.OVERDUE,
        StepKind.REPEAT,
    ]
