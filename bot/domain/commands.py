"""Parsing command arguments: ticket numbers, outcomes, usernames (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ID = re.compile(r"#?(\d{1,9})")
_USERNAME = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{3,31})")


class UsageError(ValueError):
    """The arguments do not fit the command."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """Ticket numbers from the front of the arguments, and the words after them."""

    ids: tuple[int, ...]
    rest: tuple[str, ...]

    @property
    def text(self) -> str:
        """The remaining words as one string."""
        return " ".join(self.rest).strip()


def parse_ids(args: Sequence[str]) -> Parsed:
    """Leading `12`, `#12`, `12,13` tokens are ticket numbers; the rest is text."""
    ids: list[int] = []
    index = 0
    for index, token in enumerate(args):  # noqa: B007 - index is used after the loop
        parts = [p for p in token.split(",") if p]
        matches = [_ID.fullmatch(p) for p in parts]
        if not parts or not all(matches):
            break
        ids.extend(int(m.group(1)) for m in matches if m)
    else:
        index = len(args)
    return Parsed(tuple(dict.fromkeys(i for i in ids if i > 0)), tuple(args[index:]))


def parse_username(token: str) -> str:
    """`@name` or `name` -> `name`; raises UsageError."""
    match = _USERNAME.fullmatch(token.strip())
    if match is None:
        raise UsageError("not a username")
    return match.group(1)


def split_outcome(rest: Sequence[str], words: dict[str, str]) -> tuple[str | None, str]:
    """First word as an outcome if it is one (by the given vocabulary), then the note."""
    if rest and rest[0].lower() in words:
        return words[rest[0].lower()], " ".join(rest[1:]).strip()
    return None, " ".join(rest).strip()
