"""The sender's backoff rule for transient failures (5xx, network errors, timeouts)."""

from __future__ import annotations

import random

import pytest

from bot.sender import Limits, backoff


@pytest.mark.parametrize(
    ("failures", "plain"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0), (6, 30.0), (7, 30.0), (60, 30.0)],
)
def test_backoff_doubles_from_one_second_capped_with_bounded_jitter(
    failures: int, plain: float
) -> None:
    rng = random.Random(failures)  # noqa: S311 - jitter, not security
    waits = [backoff(Limits(), failures, rng) for _ in range(500)]
    assert min(waits) >= plain * 0.8
    assert max(waits) <= min(plain * 1.2, 30.0)
    assert max(waits) - min(waits) > plain * 0.1  # it is jittered, not fixed


def test_no_jitter_gives_the_plain_delay() -> None:
    limits = Limits(jitter=0.0, max_backoff=2.0)
    rng = random.Random(0)  # noqa: S311 - jitter, not security
    assert [backoff(limits, n, rng) for n in (1, 2, 3)] == [1.0, 2.0, 2.0]
