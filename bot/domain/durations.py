"""Durations as people type them: ``90s``, ``15m``, ``4h``, ``1h30m``, ``180d``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNITS: dict[str, timedelta] = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_ORDER = "dhms"
_HINT = "use e.g. 90s, 15m, 4h, 1h30m or 2d"

# One token at a time: a number with its (possibly missing) unit, or any other character.
_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]+)\s*(?P<unit>[A-Za-z]*)|(?P<other>\S))", re.ASCII)


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration such as ``1h30m``; raise ValueError with a short reason."""
    source = text.strip()
    if not source:
        raise ValueError(f"empty duration: {_HINT}")
    total = timedelta()
    last_rank = -1
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:  # only trailing whitespace is left
            break
        position = match.end()
        other = match.group("other")
        if other is not None:
            raise ValueError(_bad_character(source, other))
        number, unit = match.group("num"), match.group("unit").lower()
        if not unit:
            following = source[position:].lstrip()[:1]
            if following in (".", ","):
                raise ValueError(_bad_character(source, following))
            raise ValueError(f"missing unit after {number} in {source!r}: {_HINT}")
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {unit!r} in {source!r}: {_HINT}")
        rank = _ORDER.index(unit)
        if rank <= last_rank:
            raise ValueError(f"units must go from largest to smallest, once each, in {source!r}")
        last_rank = rank
        try:
            total += int(number) * _UNITS[unit]
        except OverflowError:
            raise ValueError(f"duration too large: {source!r}") from None
    if total <= timedelta():
        raise ValueError(f"duration must be positive: {source!r}")
    return total


def _bad_character(source: str, char: str) -> str:
    """Explain the most likely mistake behind an unexpected character."""
    if char == "-":
        return f"duration must be positive: {source!r}"
    if char in ".,":
        return f"use whole numbers, e.g. 1h30m instead of 1.5h: {source!r}"
    if char.isalpha():
        return f"missing number before {char!r} in {source!r}: {_HINT}"
    return f"unexpected {char!r} in duration {source!r}: {_HINT}"


def format_duration(delta: timedelta) -> str:
    """Render a duration compactly (``1h30m``, ``2d12h``, ``0s``); sub-second parts are dropped."""
    if delta < timedelta():
        return "-" + format_duration(-delta)
    seconds = delta.days * 86_400 + delta.seconds
    parts: list[str] = []
    for unit in _ORDER:
        size = int(_UNITS[unit].total_seconds())
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
