"""Categories: SPEC's table, tags in report text, the two windows, the policy file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.categories import (
    DEFAULT,
    PolicyError,
    agreed_window,
    builtin_categories,
    category_of,
    category_tags,
    missing_keys,
    parse_policy,
)
from bot.domain.tickets import deadline_at, legal_deadline_at, new_ticket, standard_policy

H = timedelta(hours=1)
M = timedelta(minutes=1)
TABLE = builtin_categories(resolve=3 * H)

# SPEC "Categories and deadlines", row by row
SPEC_TABLE = [
    ("terrorism", ("terorisme", "teror", "terrorism"), H, 4 * H),
    ("csam", ("pornografianak", "csam"), H, 4 * H),
    ("public_order", ("hoaks", "sara", "provokasi"), 4 * H, 4 * H),
    ("gambling", ("judol", "judi", "gambling"), 4 * H, 4 * H),
    ("illegal_products", ("obat", "kosmetik", "makanan"), 4 * H, 4 * H),
    ("pornography", ("pornografi", "porn"), 4 * H, 24 * H),
    ("illegal_finance", ("pinjol", "investasibodong"), 4 * H, 24 * H),
    ("other", (), 3 * H, 24 * H),  # agreed: LIAISON_RESOLVE_DEADLINE
]


def test_builtin_table_is_specs() -> None:
    got = [(c.key, c.tags, c.agreed, c.legal) for c in TABLE.items]
    assert got == SPEC_TABLE
    assert TABLE.default == DEFAULT == "other"
    assert all(c.name("id") and c.name("en") for c in TABLE.items)
    assert TABLE.get("gambling").name("id") == "Judi online"
    assert TABLE.get("gambling").name("en") == "Online gambling"


@pytest.mark.parametrize(
    ("text", "tags", "key"),
    [
        ("https://t.me/kasino/12 #judol", ["judol"], "gambling"),
        ("#JUDOL https://t.me/kasino/12", ["judol"], "gambling"),
        ("Tolong cek #Judi", ["judi"], "gambling"),
        ("https://t.me/kasino/12", [], None),
        ("https://t.me/kasino/12#judol", [], None),  # inside a link: a fragment
        ("https://example.com/#terorisme t.me/x/1", [], None),
        ("email a#judol or x/#judol or ##judol", [], None),  # not a word of its own
        ("#judolan t.me/x/1", ["judolan"], None),  # another word
        ("#urgent t.me/x/1", ["urgent"], None),  # `#urgent` is no category
        ("!judol t.me/x/1", [], None),  # only '#' tags categories
        ("#judol #terorisme t.me/x/1", ["judol", "terorisme"], "terrorism"),  # strictest
        ("#pinjol #hoaks", ["pinjol", "hoaks"], "public_order"),  # legal 4 h beats 24 h
        ("#judol #hoaks", ["judol", "hoaks"], "public_order"),  # a tie: the earlier row
        ("#porn #investasibodong", ["porn", "investasibodong"], "pornography"),
        ("#csam #terorisme", ["csam", "terorisme"], "terrorism"),
        ("#nothing #judi", ["nothing", "judi"], "gambling"),
    ],
)
def test_tags_in_text(text: str, tags: list[str], key: str | None) -> None:
    assert category_tags(text) == tags
    found = category_of(text, TABLE)
    assert (found.key if found else None) == key


@pytest.mark.parametrize(
    ("key", "urgent", "agreed", "legal"),
    [
        ("other", False, 3 * H, 24 * H),
        ("other", True, 20 * M, 24 * H),  # urgent: the shorter of 3 h and 20 min
        ("gambling", False, 4 * H, 4 * H),
        ("gambling", True, 20 * M, 4 * H),  # the legal window stays
        ("terrorism", False, H, 4 * H),
        ("terrorism", True, 20 * M, 4 * H),
        ("pornography", False, 4 * H, 24 * H),
    ],
)
def test_windows(key: str, urgent: bool, agreed: timedelta, legal: timedelta) -> None:
    category = TABLE.get(key)
    assert agreed_window(category, urgent, 20 * M) == agreed
    policy = standard_policy(resolve=3 * H, urgent=20 * M)
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    ticket = new_ticket(
        link=None,
        link_key=None,
        channel=None,
        urgent=urgent,
        reporter_id=1,
        chat_id=1,
        report_message_id=1,
        now=now,
        category=key,
    )
    assert policy.agreed(ticket) == agreed
    assert policy.legal(ticket) == legal
    assert deadline_at(ticket, policy) == now + agreed
    assert legal_deadline_at(ticket, policy) == now + legal


def test_urgent_cap_longer_than_the_category_keeps_the_category() -> None:
    assert agreed_window(TABLE.get("terrorism"), True, 2 * H) == H


def test_find_by_key_or_tag() -> None:
    assert TABLE.find("gambling") is TABLE.get("gambling")
    assert TABLE.find("#JUDOL") is TABLE.get("gambling")
    assert TABLE.find("teror") is TABLE.get("terrorism")
    assert TABLE.find("nope") is None
    assert TABLE.get("gone_key").key == "other"  # a key no longer listed: the default


GOOD = """\
default = "lain"

[[category]]
key = "gambling"                      # stable: exports and stats use it
name = { id = "Judi online", en = "Online gambling" }
tags = ["judol", "#Judi", "gambling"]
agreed = "4h"
legal = "4h"

[[category]]
key = "lain"
name = { id = "Lainnya", en = "Other" }
legal = "1d"
"""


def test_policy_file() -> None:
    table = parse_policy(GOOD, resolve=2 * H)
    assert table.keys == ("gambling", "lain")
    assert table.default == "lain"
    assert table.get("gambling").tags == ("judol", "judi", "gambling")
    assert table.get("lain").agreed == 2 * H  # the default may leave agreed out: resolve
    assert table.get("lain").legal == 24 * H
    assert category_of("t.me/x/1 #JUDI", table) is table.get("gambling")


def test_policy_default_key_is_other_unless_told() -> None:
    text = '[[category]]\nkey = "other"\nlegal = "24h"\n'
    table = parse_policy(text, resolve=H)
    assert table.default == "other"
    assert table.get("other").agreed == H


CAT = '[[category]]\nkey = "other"\nlegal = "24h"\n'


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            CAT + '[[category]]\nkey = "a"\ntags = ["x"]\nagreed = "4h"\nlegal = "4h"\n'
            '[[category]]\nkey = "b"\ntags = ["y", "X"]\nagreed = "4h"\nlegal = "4h"\n',
            11,
            "tag 'x' is used twice (also by 'a' on line 6)",
        ),
        (
            CAT + '[[category]]\nkey = "a"\ntags = ["x", "#x"]\nagreed = "4h"\nlegal = "1h"\n',
            6,
            "tag 'x' is used twice in 'a'",
        ),
        (CAT + '[[category]]\nkey = "a"\nagreed = "4 hours"\nlegal = "4h"\n', 6, "agreed: "),
        (CAT + '[[category]]\nkey = "a"\nagreed = "4h"\nlegal = "0"\n', 7, "legal: "),
        (
            CAT + '[[category]]\nkey = "a"\nagreed = 4\nlegal = "4h"\n',
            6,
            "agreed must be a duration in quotes",
        ),
        (CAT + '[[category]]\nkey = "a"\nlegal = "4h"\n', 4, "agreed is missing"),
        (
            CAT + '[[category]]\nkey = "a"\nagreed = "4h"\nlegal = "4h"\ncolour = "red"\n',
            8,
            "unknown field 'colour'",
        ),
        ('deadline = "4h"\n' + CAT, 1, "unknown field 'deadline'"),
        (
            CAT + '[[category]]\nkey = "other"\nagreed = "4h"\nlegal = "4h"\n',
            5,
            "category 'other' is listed twice (first on line 2)",
        ),
        (
            CAT + '[[category]]\nkey = "Bad Key"\nagreed = "4h"\nlegal = "4h"\n',
            5,
            "key must be lower-case",
        ),
        (
            CAT + '[[category]]\nkey = "a"\ntags = ["urgent"]\nagreed = "4h"\nlegal = "4h"\n',
            6,
            "tag 'urgent' is not a usable tag",
        ),
        (
            CAT + '[[category]]\nkey = "a"\nname = "Judi"\nagreed = "4h"\nlegal = "4h"\n',
            6,
            "name must be like",
        ),
        (
            'default = "none"\n[[category]]\nkey = "other"\nagreed = "1h"\nlegal = "1h"\n',
            1,
            "the default category 'none' is not listed",
        ),
        (
            '[[category]]\nkey = "a"\nagreed = "4h"\nlegal = "4h"\n',
            None,
            "the default category 'other' is not listed",
        ),
        ("x = [\n", 2, "invalid TOML"),
        ('[[category]]\nkey = "other"\nlegal = 24h\n', 3, "invalid TOML"),
        ("", None, "no [[category]] in the file"),
    ],
)
def test_policy_refusals(text: str, line: int | None, reason: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert caught.value.line == line
    assert caught.value.reason.startswith(reason), caught.value.reason
    where = f"policy line {line}" if line is not None else "policy"
    assert str(caught.value).startswith(f"{where}: ")


def test_keys_in_use_that_a_file_lacks() -> None:
    table = parse_policy(GOOD)
    assert missing_keys(table, ["gambling", "other", "terrorism", "other"]) == [
        "other",
        "terrorism",
    ]
    assert missing_keys(table, ["gambling", "lain"]) == []
