"""Durations: the forms people type, the forms refused, and the compact rendering."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.durations import format_duration, parse_duration

GOOD = [
    ("90s", timedelta(seconds=90)),
    ("15m", timedelta(minutes=15)),
    ("4h", timedelta(hours=4)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("180d", timedelta(days=180)),
    ("2d12h", timedelta(days=2, hours=12)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    ("45S", timedelta(seconds=45)),
    ("4H", timedelta(hours=4)),
    ("  15m  ", timedelta(minutes=15)),
    ("15 m", timedelta(minutes=15)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("1d 2h 3m 4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("0h1s", timedelta(seconds=1)),
    ("1s", timedelta(seconds=1)),
    ("120m", timedelta(hours=2)),
    ("007m", timedelta(minutes=7)),
    ("36h", timedelta(hours=36)),
]

BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("0", "missing unit"),
    ("0m", "must be positive"),
    ("0d0h0m0s", "must be positive"),
    ("-5m", "must be positive"),
    ("15", "missing unit"),
    ("1h30", "missing unit"),
    ("m", "missing number"),
    ("h1", "missing number"),
    ("1x", "unknown unit"),
    ("5min", "unknown unit"),
    ("1w", "unknown unit"),
    ("1.5h", "whole numbers"),
    ("1,5h", "whole numbers"),
    ("30m1h", "largest to smallest"),
    ("1h1h", "largest to smallest"),
    ("+5m", "unexpected"),
    ("1h-30m", "must be positive"),
    ("\u0661h", "unexpected"),  # an Arabic-Indic digit: only ASCII digits count
    ("99999999999999d", "too large"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_parse_good(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_parse_bad(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)


def test_bad_reason_is_one_short_line() -> None:
    for text, _ in BAD:
        with pytest.raises(ValueError, match=r".") as caught:
            parse_duration(text)
        message = str(caught.value)
        assert "\n" not in message
        assert len(message) < 100


FORMATS = [
    (timedelta(), "0s"),
    (timedelta(seconds=90), "1m30s"),
    (timedelta(seconds=5400), "1h30m"),
    (timedelta(minutes=15), "15m"),
    (timedelta(hours=4), "4h"),
    (timedelta(days=180), "180d"),
    (timedelta(days=2, hours=12), "2d12h"),
    (timedelta(days=1, seconds=1), "1d1s"),
    (timedelta(hours=25), "1d1h"),
    (timedelta(seconds=59, microseconds=999_999), "59s"),
    (timedelta(microseconds=1), "0s"),
    (-timedelta(minutes=90), "-1h30m"),
]


@pytest.mark.parametrize(("delta", "text"), FORMATS)
def test_format(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_round_trip_from_text(text: str, expected: timedelta) -> None:
    canonical = format_duration(parse_duration(text))
    assert parse_duration(canonical) == expected
    assert format_duration(parse_duration(canonical)) == canonical


def test_round_trip_from_delta() -> None:
    seconds = [1, 59, 60, 61, 3599, 3600, 3601, 86_399, 86_400, 86_401, 90_061, 15_552_000]
    seconds += [7**k for k in range(1, 12)]
    for count in seconds:
        delta = timedelta(seconds=count)
        assert parse_duration(format_duration(delta)) == delta
