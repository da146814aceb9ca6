"""Command arguments: ticket numbers, usernames, outcomes (pure, table-driven)."""

from __future__ import annotations

import pytest

from bot.domain.commands import Parsed, UsageError, parse_ids, parse_username, split_outcome

IDS = [
    # (args, ids, rest)
    ([], (), ()),
    (["12"], (12,), ()),
    (["#12"], (12,), ()),
    (["12", "13"], (12, 13), ()),
    (["#12", "#13", "14"], (12, 13, 14), ()),
    (["12,13"], (12, 13), ()),
    (["#12,#13"], (12, 13), ()),
    (["12,13,", "14"], (12, 13, 14), ()),
    ([",12"], (12,), ()),
    (["12", "12", "#12"], (12,), ()),  # repeated numbers count once
    (["13", "12"], (13, 12), ()),  # order as written
    (["0"], (), ()),  # there is no ticket 0
    (["0", "5"], (5,), ()),
    (["007"], (7,), ()),
    (["999999999"], (999999999,), ()),
    (["1234567890"], (), ("1234567890",)),  # too long to be a ticket number
    (["12", "removed"], (12,), ("removed",)),
    (["12", "banned", "whole", "channel"], (12,), ("banned", "whole", "channel")),
    (["12", "not", "13"], (12,), ("not", "13")),  # numbers after text are text
    (["spam", "12"], (), ("spam", "12")),
    (["12abc"], (), ("12abc",)),
    (["12,abc"], (), ("12,abc",)),  # a list with a non-number is not a list of numbers
    (["#"], (), ("#",)),
    (["##12"], (), ("##12",)),
    (["-3"], (), ("-3",)),
    ([","], (), (",",)),
    (["@budi_mod"], (), ("@budi_mod",)),
    (["12", "@budi_mod"], (12,), ("@budi_mod",)),
    (["12", "#urgent"], (12,), ("#urgent",)),
]


@pytest.mark.parametrize(("args", "ids", "rest"), IDS)
def test_parse_ids(args: list[str], ids: tuple[int, ...], rest: tuple[str, ...]) -> None:
    assert parse_ids(args) == Parsed(ids, rest)


def test_parsed_text_joins_the_rest() -> None:
    assert parse_ids(["7", "not", "a", " ", "post"]).text == "not a   post"
    assert parse_ids(["7"]).text == ""
    assert parse_ids([]).text == ""


def test_parse_ids_accepts_any_sequence() -> None:
    assert parse_ids(("3", "#4", "why")) == Parsed((3, 4), ("why",))


GOOD_USERNAMES = [
    ("@budi_mod", "budi_mod"),
    ("budi_mod", "budi_mod"),
    ("  @Budi_Mod ", "Budi_Mod"),  # case is kept; the roster compares case-insensitively
    ("@abcd", "abcd"),  # four letters: Fragment's short usernames
    ("@" + "a" * 32, "a" * 32),
    ("a1_2", "a1_2"),
]

BAD_USERNAMES = [
    "",
    "@",
    "@abc",  # too short
    "@" + "a" * 33,  # too long
    "@1budi",  # must start with a letter
    "@_budi",
    "@@budi_mod",
    "@budi-mod",
    "@budi mod",
    "#12",
    "12",
    "https://t.me/budi_mod",
]


@pytest.mark.parametrize(("token", "expected"), GOOD_USERNAMES)
def test_parse_username(token: str, expected: str) -> None:
    assert parse_username(token) == expected


@pytest.mark.parametrize("token", BAD_USERNAMES)
def test_parse_username_refuses(token: str) -> None:
    with pytest.raises(UsageError):
        parse_username(token)


def test_usage_error_is_a_value_error() -> None:
    # handlers catch ValueError for both bad usernames and bad durations
    assert issubclass(UsageError, ValueError)


WORDS = {
    "removed": "removed",
    "dihapus": "removed",
    "banned": "banned",
    "diblokir": "banned",
    "restricted": "restricted",
    "gone": "gone",
}

OUTCOMES = [
    ([], (None, "")),
    (["banned"], ("banned", "")),
    (["BANNED"], ("banned", "")),  # outcome words are case-insensitive
    (["Diblokir", "seluruh", "channel"], ("banned", "seluruh channel")),
    (["gone", "already", "deleted"], ("gone", "already deleted")),
    (["restricted"], ("restricted", "")),
    (["taken", "down", "fast"], (None, "taken down fast")),
    (["note", "banned"], (None, "note banned")),  # only the first word can be the outcome
    (["  "], (None, "")),
    (["removed", " "], ("removed", "")),
]


@pytest.mark.parametrize(("rest", "expected"), OUTCOMES)
def test_split_outcome(rest: list[str], expected: tuple[str | None, str]) -> None:
    assert split_outcome(rest, WORDS) == expected


def test_ids_then_outcome_then_note() -> None:
    """`/done 3,4 #5 banned spam network` as the handler reads it."""
    parsed = parse_ids(["3,4", "#5", "banned", "spam", "network"])
    assert parsed.ids == (3, 4, 5)
    assert split_outcome(parsed.rest, WORDS) == ("banned", "spam network")
