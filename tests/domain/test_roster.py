"""The roster file, the rotation and its overrides, walked minute by minute."""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.roster import (
    OnCall,
    Override,
    Person,
    Role,
    Roster,
    Rotation,
    backup_at,
    next_shift_change,
    on_call_at,
    shift_at,
    shifts_between,
)
from bot.roster_file import RosterError, load_roster, parse_roster

JAKARTA = timezone(timedelta(hours=7))
START = datetime(2026, 11, 23, 8, 0, tzinfo=JAKARTA)  # 01:00 UTC
SHIFT = timedelta(hours=8)
MINUTE = timedelta(minutes=1)
MICROSECOND = timedelta(microseconds=1)

# The SPEC example with a second moderator; the line numbers below refer to this text.
SPEC_ROSTER = """\
[[person]]
name = "Andi Wijaya"
telegram_id = 1001
username = "andi_mod"          # without @
phone = "+62 811 0000 0001"
roles = ["moderator"]          # moderator and/or supervisor

[[person]]
name = "Budi Santoso"
telegram_id = 1002
username = "budi_mod"
phone = "+62 811 0000 0002"
roles = ["moderator"]

[[person]]
name = "Sari Dewi"
telegram_id = 2001
username = "sari_lead"
phone = "+62 811 0000 0009"
roles = ["supervisor"]

[rotation]
start = 2026-11-23T08:00:00+07:00   # any past instant; shifts repeat from it
shift = "8h"
order = ["andi_mod", "budi_mod"]    # usernames of moderators; the backup is the next one
"""

ANDI, BUDI, SARI = 1001, 1002, 2001


def _person(telegram_id: int, name: str, *roles: Role) -> Person:
    """A person with a username derived from the name."""
    return Person(
        name=name,
        telegram_id=telegram_id,
        username=name.lower(),
        phone=f"+62 811 {telegram_id}",
        roles=frozenset(roles or (Role.MODERATOR,)),
    )


A = _person(1, "Ana")
B = _person(2, "Bayu")
C = _person(3, "Citra")
D = _person(4, "Dewi")  # a moderator outside the order
S = _person(9, "Sari", Role.SUPERVISOR)
PEOPLE = (A, B, C, D, S)


def _roster(*order: Person, start: datetime = START, shift: timedelta = SHIFT) -> Roster:
    """A roster of PEOPLE with the given rotation order."""
    rotation = Rotation(start=start, shift=shift, order=tuple(p.telegram_id for p in order))
    return Roster(people=PEOPLE, rotation=rotation)


def _broken(old: str, new: str) -> str:
    """SPEC_ROSTER with one piece of text replaced."""
    assert old in SPEC_ROSTER
    return SPEC_ROSTER.replace(old, new, 1)


def _with_line(number: int, text: str) -> str:
    """SPEC_ROSTER with line ``number`` (1-based) replaced by ``text``."""
    lines = SPEC_ROSTER.split("\n")
    lines[number - 1] = text
    return "\n".join(lines)


# --- parsing --------------------------------------------------------------------------------


def test_parse_spec_example() -> None:
    roster = parse_roster(SPEC_ROSTER)
    andi, budi, sari = roster.people
    assert andi == Person(
        name="Andi Wijaya",
        telegram_id=ANDI,
        username="andi_mod",
        phone="+62 811 0000 0001",
        roles=frozenset({Role.MODERATOR}),
    )
    assert (budi.name, budi.telegram_id, budi.username) == ("Budi Santoso", BUDI, "budi_mod")
    assert sari.roles == frozenset({Role.SUPERVISOR})
    assert sari.is_supervisor
    assert not sari.is_moderator
    assert roster.moderators == (andi, budi)
    assert roster.supervisors == (sari,)
    assert roster.rotation == Rotation(start=START, shift=SHIFT, order=(ANDI, BUDI))
    assert roster.rotation.start.utcoffset() == timedelta(hours=7)


def test_find_people() -> None:
    roster = parse_roster(SPEC_ROSTER)
    andi = roster.people[0]
    assert roster.find_by_id(ANDI) is andi
    assert roster.find_by_id(42) is None
    for spelling in ("andi_mod", "@andi_mod", "ANDI_MOD", "@Andi_Mod", " andi_mod "):
        assert roster.find_by_username(spelling) is andi
    for missing in ("andi", "", "@", "andi_mod2"):
        assert roster.find_by_username(missing) is None


def test_parse_lenient_forms() -> None:
    text = """\
[[person]]
name = "  Andi  "
telegram_id = 1001
username = "@Andi_Mod"
roles = ["Moderator", "SUPERVISOR", "moderator"]

[[person]]
name = "No Username"
telegram_id = 1002
roles = ["moderator"]
phone = ""

[rotation]
start = "2026-11-23T01:00:00Z"
shift = "1h 30m"
order = ["andi_mod", 1002, "@ANDI_MOD"]
"""
    roster = parse_roster(text)
    andi, nameless = roster.people
    assert andi.name == "Andi"
    assert andi.username == "Andi_Mod"
    assert andi.phone is None
    assert andi.roles == frozenset({Role.MODERATOR, Role.SUPERVISOR})
    assert nameless.username is None
    assert nameless.phone is None
    assert roster.rotation == Rotation(
        start=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        shift=timedelta(hours=1, minutes=30),
        order=(1001, 1002, 1001),
    )


def test_parse_without_rotation_and_with_empty_order() -> None:
    people_only = SPEC_ROSTER.split("[rotation]")[0]
    assert parse_roster(people_only).rotation is None
    assert parse_roster("").people == ()
    empty = parse_roster(_broken('order = ["andi_mod", "budi_mod"]', "order = []"))
    assert empty.rotation is not None
    assert empty.rotation.order == ()


def test_inline_rotation_table() -> None:
    inline = 'rotation = { start = 2026-11-23T08:00:00+07:00, shift = "8h", order = [] }\n'
    roster = parse_roster(inline + SPEC_ROSTER.split("[rotation]")[0])
    assert roster.rotation == Rotation(start=START, shift=SHIFT, order=())
    with pytest.raises(RosterError) as caught:
        parse_roster(inline.replace('"8h"', '"8x"') + SPEC_ROSTER.split("[rotation]")[0])
    assert caught.value.line == 1


MULTILINE_ORDER = """order = [
  "andi_mod",
  "budi_mod",
  "ghost",
]"""

MULTILINE_ROLES = """roles = [
  "supervisor",
  "admin",
]"""

# (description, roster text, expected line, a piece of the reason)
INVALID = [
    ("toml syntax", _broken('shift = "8h"', "shift = 8h"), 24, "invalid TOML"),
    ("toml unclosed", _broken('"+62 811 0000 0002"', '"+62 811'), 12, "invalid TOML"),
    ("missing name", _broken('name = "Budi Santoso"\n', ""), 8, "has no name"),
    ("empty name", _broken('name = "Budi Santoso"', 'name = "  "'), 9, "name"),
    ("missing telegram_id", _broken("telegram_id = 1002\n", ""), 8, "no telegram_id"),
    ("telegram_id string", _broken("telegram_id = 1002", 'telegram_id = "1002"'), 10, "positive"),
    ("telegram_id zero", _broken("telegram_id = 1002", "telegram_id = 0"), 10, "positive"),
    ("telegram_id negative", _broken("telegram_id = 1002", "telegram_id = -5"), 10, "positive"),
    ("telegram_id bool", _broken("telegram_id = 1002", "telegram_id = true"), 10, "positive"),
    ("telegram_id float", _broken("telegram_id = 1002", "telegram_id = 1002.0"), 10, "positive"),
    ("duplicate id", _broken("telegram_id = 2001", "telegram_id = 1001"), 17, "first on line 3"),
    ("duplicate username", _broken('"sari_lead"', '"ANDI_MOD"'), 18, "first on line 4"),
    ("bad username", _broken('"andi_mod"          #', '"andi mod"  #'), 4, "username"),
    ("username not str", _broken('username = "budi_mod"', "username = 7"), 11, "username"),
    ("phone not str", _broken('phone = "+62 811 0000 0002"', "phone = 62811"), 12, "phone"),
    ("unknown role", _broken('roles = ["supervisor"]', 'roles = ["admin"]'), 20, "unknown role"),
    ("unknown role, multi-line", _with_line(20, MULTILINE_ROLES), 22, "admin"),
    ("role not a string", _broken('roles = ["supervisor"]', "roles = [1]"), 20, "unknown role"),
    ("roles empty", _with_line(13, "roles = []"), 13, "empty"),
    ("roles not a list", _broken('roles = ["supervisor"]', 'roles = "supervisor"'), 20, "list"),
    ("roles missing", _broken('roles = ["supervisor"]\n', ""), 15, "no roles"),
    ("unknown person key", _broken('phone = "+62 811 0000 0002"', 'phon = "1"'), 12, "'phon'"),
    ("person as a table", "[person]\nname = 'x'\n", 1, "[[person]]"),
    ("unknown table", SPEC_ROSTER + "\n[settings]\nx = 1\n", 27, "'settings'"),
    ("unknown top key", "timezone = 'UTC'\n" + SPEC_ROSTER, 1, "'timezone'"),
    ("unknown rotation key", _broken('shift = "8h"', 'shift = "8h"\nlength = 3'), 25, "'length'"),
    ("order unknown username", _broken('"budi_mod"]', '"budi_mod", "ghost"]'), 25, "'ghost'"),
    ("order unknown, multi-line", _with_line(25, MULTILINE_ORDER), 28, "ghost"),
    ("order unknown id", _broken('"budi_mod"]', "1002, 9999]"), 25, "9999"),
    ("order not moderator", _broken('"budi_mod"]', '"sari_lead"]'), 25, "moderator role"),
    ("order not moderator id", _broken('"budi_mod"]', "2001]"), 25, "moderator role"),
    ("order entry not a name", _broken('"budi_mod"]', "true]"), 25, "usernames"),
    ("order not a list", _broken('order = ["andi_mod", "budi_mod"]', 'order = "x"'), 25, "list"),
    ("order missing", _broken('order = ["andi_mod", "budi_mod"]', ""), 22, "no order"),
    ("shift missing", _broken('shift = "8h"', ""), 22, "no shift"),
    ("start missing", _broken("start = 2026-11-23T08:00:00+07:00", ""), 22, "no start"),
    ("bad shift", _broken('shift = "8h"', 'shift = "8 hours"'), 24, "rotation shift"),
    ("zero shift", _broken('shift = "8h"', 'shift = "0h"'), 24, "positive"),
    ("shift not a string", _broken('shift = "8h"', "shift = 8"), 24, "duration"),
    ("start local", _broken("08:00:00+07:00", "08:00:00"), 23, "time zone offset"),
    ("start string local", _with_line(23, 'start = "2026-11-23T08:00"'), 23, "offset"),
    ("start date only", _broken("2026-11-23T08:00:00+07:00", "2026-11-23"), 23, "offset"),
    ("start bad string", _broken("2026-11-23T08:00:00+07:00", '"next monday"'), 23, "date-time"),
    ("start a number", _broken("2026-11-23T08:00:00+07:00", "5"), 23, "date-time"),
    ("rotation not a table", "rotation = 5\n", 1, "[rotation]"),
    ("rotation array", SPEC_ROSTER.replace("[rotation]", "[[rotation]]"), 22, "single"),
]


@pytest.mark.parametrize(
    ("text", "line", "reason"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_roster(text: str, line: int, reason: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(text)
    error = caught.value
    assert error.line == line
    assert reason in error.reason
    assert str(error) == f"roster line {line}: {error.reason}"
    assert "\n" not in str(error)


def test_roster_error_text() -> None:
    assert str(RosterError("bad", 3)) == "roster line 3: bad"
    assert str(RosterError("bad")) == "roster: bad"
    assert isinstance(RosterError("bad"), ValueError)


def test_load_roster() -> None:
    missing = Path(__file__).with_name("no-such-roster.toml")
    with pytest.raises(RosterError) as caught:
        load_roster(missing)
    assert str(caught.value) == "roster: file not found: no-such-roster.toml"
    assert caught.value.line is None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.toml"
        path.write_text(SPEC_ROSTER, encoding="utf-8")
        assert load_roster(path) == parse_roster(SPEC_ROSTER)
        path.write_bytes(b"\xff\xfe")
        with pytest.raises(RosterError, match="UTF-8"):
            load_roster(path)


def test_direct_construction_is_checked() -> None:
    with pytest.raises(ValueError, match="aware"):
        Rotation(start=START.replace(tzinfo=None), shift=SHIFT, order=())
    with pytest.raises(ValueError, match="positive"):
        Rotation(start=START, shift=timedelta(), order=())
    with pytest.raises(ValueError, match="unknown"):
        Roster(people=(A,), rotation=Rotation(start=START, shift=SHIFT, order=(2,)))
    with pytest.raises(ValueError, match="distinct"):
        Roster(people=(A, A), rotation=None)


# --- scheduled shifts -----------------------------------------------------------------------


def test_shift_at_boundaries() -> None:
    roster = parse_roster(SPEC_ROSTER)
    andi, budi = roster.people[:2]
    first = shift_at(roster, START)
    assert first is not None
    assert (first.index, first.person, first.start, first.end) == (0, andi, START, START + SHIFT)
    assert first.start.tzinfo is UTC
    before = shift_at(roster, START - MICROSECOND)
    assert before is not None
    assert (before.index, before.person, before.end) == (-1, budi, START)
    last_moment = shift_at(roster, START + SHIFT - MICROSECOND)
    assert last_moment is not None
    assert (last_moment.index, last_moment.person) == (0, andi)
    second = shift_at(roster, START + SHIFT)
    assert second is not None
    assert (second.index, second.person, second.start) == (1, budi, START + SHIFT)


def test_times_before_start_extend_backwards() -> None:
    roster = _roster(A, B, C)
    for index in range(-30, 30):
        begin = START + index * SHIFT
        for probe in (begin, begin + timedelta(hours=4), begin + SHIFT - MICROSECOND):
            shift = shift_at(roster, probe)
            assert shift is not None
            assert shift.index == index
            assert shift.person == (A, B, C)[index % 3]
            assert (shift.start, shift.end) == (begin, begin + SHIFT)
    # Index -1 is the last in order; -3 wraps round to the first.
    earlier = [shift_at(roster, START - n * SHIFT) for n in (1, 2, 3)]
    assert [(s.index, s.person) for s in earlier if s is not None] == [(-1, C), (-2, B), (-3, A)]


def test_no_rotation_or_empty_order() -> None:
    at = START + timedelta(days=3)
    override = Override(person_id=B.telegram_id, start=at - SHIFT, end=at + SHIFT)
    for roster in (Roster(people=PEOPLE, rotation=None), _roster()):
        assert shift_at(roster, at) is None
        assert on_call_at(roster, [], at) is None
        assert backup_at(roster, [], at) is None
        assert shifts_between(roster, at, at + timedelta(days=7)) == []
        assert next_shift_change(roster, at) is None
        # An override still puts someone on call, but there is nobody to back them up.
        assert on_call_at(roster, [override], at) == OnCall(
            person=B, until=at + SHIFT, overridden=True
        )
        assert backup_at(roster, [override], at) is None
        assert on_call_at(roster, [override], at + SHIFT) is None


def test_one_person_rotation() -> None:
    roster = _roster(A)
    for hours in range(-48, 48, 5):
        at = START + timedelta(hours=hours)
        current = on_call_at(roster, [], at)
        assert current is not None
        assert current.person == A
        assert not current.overridden
        assert backup_at(roster, [], at) is None
    at = START + timedelta(hours=3)
    override = Override(person_id=B.telegram_id, start=at, end=at + MINUTE)
    assert backup_at(roster, [override], at) == A  # A is free while B covers
    assert backup_at(roster, [override], at + MINUTE) is None


def test_repeated_person_in_order() -> None:
    roster = _roster(A, A, B)
    at = START + timedelta(hours=1)
    assert backup_at(roster, [], at) == B  # skips the second A
    assert backup_at(roster, [], at + SHIFT) == B
    assert backup_at(roster, [], at + 2 * SHIFT) == A


def test_shifts_between() -> None:
    roster = _roster(A, B, C)
    day = shifts_between(roster, START, START + timedelta(days=1))
    assert [(s.index, s.person) for s in day] == [(0, A), (1, B), (2, C)]
    assert [s.start for s in day] == [START, START + SHIFT, START + 2 * SHIFT]
    # Overlap counts: a range starting mid-shift includes that shift.
    partial = shifts_between(roster, START + timedelta(hours=7), START + timedelta(hours=9))
    assert [s.index for s in partial] == [0, 1]
    # The end is exclusive: a range ending at a boundary does not include the next shift.
    assert [s.index for s in shifts_between(roster, START, START + SHIFT)] == [0]
    assert [s.index for s in shifts_between(roster, START - MICROSECOND, START)] == [-1]
    assert shifts_between(roster, START, START) == []
    assert shifts_between(roster, START + SHIFT, START) == []
    before = shifts_between(roster, START - 2 * SHIFT, START)
    assert [(s.index, s.person) for s in before] == [(-2, B), (-1, C)]
    week = shifts_between(roster, START, START + timedelta(days=7))
    assert len(week) == 21
    assert all(a.end == b.start for a, b in itertools.pairwise(week))
    # Same answer whatever zone the range is given in.
    in_utc = shifts_between(
        roster, START.astimezone(UTC), (START + timedelta(days=7)).astimezone(UTC)
    )
    assert in_utc == week


def test_next_shift_change() -> None:
    roster = _roster(A, B, C)
    assert next_shift_change(roster, START) == START + SHIFT
    assert next_shift_change(roster, START - MICROSECOND) == START
    assert next_shift_change(roster, START + timedelta(hours=1)) == START + SHIFT
    assert next_shift_change(roster, START + SHIFT - MICROSECOND) == START + SHIFT
    assert next_shift_change(roster, START - timedelta(days=1, hours=1)) == START - 3 * SHIFT
    change = next_shift_change(roster, START.astimezone(UTC))
    assert change == START + SHIFT
    assert change is not None
    assert change.tzinfo is UTC


def test_naive_times_are_refused() -> None:
    roster = _roster(A, B)
    naive = datetime(2026, 11, 24, 8, 0)
    with pytest.raises(ValueError, match="aware"):
        shift_at(roster, naive)
    with pytest.raises(ValueError, match="aware"):
        on_call_at(roster, [], naive)
    with pytest.raises(ValueError, match="aware"):
        next_shift_change(roster, naive)
    with pytest.raises(ValueError, match="aware"):
        shifts_between(roster, naive, START)
    bad = Override(person_id=A.telegram_id, start=naive, end=naive + SHIFT)
    with pytest.raises(ValueError, match="aware"):
        on_call_at(roster, [bad], START)


# --- time zones -----------------------------------------------------------------------------


def test_queries_in_any_zone_agree() -> None:
    roster = _roster(A, B, C)
    overrides = [
        Override(D.telegram_id, START + timedelta(hours=30), START + timedelta(hours=40)),
    ]
    zones = (UTC, JAKARTA, ZoneInfo("Asia/Jakarta"), ZoneInfo("America/New_York"))
    for step in range(0, 7 * 24 * 60, 7):
        at = START + step * MINUTE
        answers = {
            (
                shift_at(roster, at.astimezone(zone)),
                on_call_at(roster, overrides, at.astimezone(zone)),
                backup_at(roster, overrides, at.astimezone(zone)),
                next_shift_change(roster, at.astimezone(zone)),
            )
            for zone in zones
        }
        assert len(answers) == 1


def test_shifts_keep_their_length_across_daylight_saving() -> None:
    # New York leaves daylight saving on 2026-11-01 at 02:00; a shift is 8 real hours regardless,
    # even when the start and the query share one ZoneInfo (where naive arithmetic would lie).
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 10, 31, 22, 0, tzinfo=new_york)  # 02:00 UTC
    roster = _roster(A, B, start=start)
    at = datetime(2026, 11, 1, 9, 30, tzinfo=new_york)  # 14:30 UTC: 12.5 h after the start
    shift = shift_at(roster, at)
    assert shift is not None
    assert shift.index == 1
    assert shift.start == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    assert shift.end - shift.start == timedelta(hours=8)
    assert next_shift_change(roster, at) == datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


# --- the week, minute by minute -------------------------------------------------------------

WALK_FROM = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # = 07:00 in Jakarta
WEEK = 7 * 24 * 60
OFFSET = 10_020  # minutes from START (2026-11-23T01:00Z) to WALK_FROM: 6 days and 23 hours
SHIFT_MINUTES = 480
ORDER = (A.telegram_id, B.telegram_id, C.telegram_id)
# Shifts in walk minutes: C until 60, then A [60, 540), B [540, 1020), C [1020, 1500),
# A [1500, 1980), B [1980, 2460), C [2460, 2940), A [2940, 3420), ...

# (start minute, end minute, person id), in the order they are handed to on_call_at.
WALK_OVERRIDES = [
    (-100, 30, C.telegram_id),  # began before the walk, same person as scheduled
    (100, 200, B.telegram_id),  # inside A's shift, by A's backup: the backup moves on to C
    (500, 600, D.telegram_id),  # spans the 540 boundary, by someone outside the order
    (1200, 1300, B.telegram_id),  # overlaps the next one and starts later: it wins
    (1100, 1400, A.telegram_id),  # inside C's shift, by C's backup
    (3000, 3100, A.telegram_id),  # starts with the next one, which is given later and wins
    (3000, 3060, C.telegram_id),
    (3200, 3300, A.telegram_id),  # the scheduled person overriding themselves
    (4000, 4100, 9999),  # someone no longer in the roster: ignored
    (4200, 4200, B.telegram_id),  # empty: ignored
    (4300, 4250, B.telegram_id),  # backwards: ignored
    (6000, 7200, B.telegram_id),  # across two boundaries
    (10_000, 10_500, A.telegram_id),  # runs past the end of the walk
]


def _expected_week() -> tuple[list[int], list[int], list[bool], list[int | None]]:
    """On-call id, until (walk minute), overridden and backup id per minute, by painting."""
    low, high = -200, WEEK + 2 * SHIFT_MINUTES
    minutes = range(low, high)
    source: list[tuple[str, int]] = [("shift", (OFFSET + m) // SHIFT_MINUTES) for m in minutes]
    person = [ORDER[(OFFSET + m) // SHIFT_MINUTES % 3] for m in minutes]
    known = {p.telegram_id for p in PEOPLE}
    usable = [
        (start, number, end, who)
        for number, (start, end, who) in enumerate(WALK_OVERRIDES)
        if who in known and end > start
    ]
    # Paint in order of start (ties: as given), so the latest-starting override is on top.
    for start, number, end, who in sorted(usable, key=lambda row: (row[0], row[1])):
        for m in range(max(start, low), min(end, high)):
            source[m - low] = ("override", number)
            person[m - low] = who
    until = [0] * len(source)
    until[-1] = high
    for i in range(len(source) - 2, -1, -1):
        until[i] = low + i + 1 if source[i + 1] != source[i] else until[i + 1]
    on_call, ends, overridden, backup = [], [], [], []
    for m in range(WEEK):
        i = m - low
        on_call.append(person[i])
        ends.append(until[i])
        overridden.append(source[i][0] == "override")
        position = (OFFSET + m) // SHIFT_MINUTES % 3
        others = [ORDER[(position + k) % 3] for k in (1, 2, 3)]
        backup.append(next((p for p in others if p != person[i]), None))
    return on_call, ends, overridden, backup


def test_week_minute_by_minute() -> None:
    roster = _roster(A, B, C)
    overrides = [
        # Storage hands overrides over in UTC; a few come in Jakarta time: zones must not matter.
        Override(
            person_id=who,
            start=(WALK_FROM + start * MINUTE).astimezone(JAKARTA if n % 4 == 1 else UTC),
            end=(WALK_FROM + end * MINUTE).astimezone(JAKARTA if n % 4 == 1 else UTC),
        )
        for n, (start, end, who) in enumerate(WALK_OVERRIDES)
    ]
    on_call, until, overridden, backup = _expected_week()
    wrong: list[str] = []
    for m in range(WEEK):
        at = WALK_FROM + m * MINUTE
        current = on_call_at(roster, overrides, at)
        second = backup_at(roster, overrides, at)
        shift = shift_at(roster, at)
        got = (
            None if current is None else current.person.telegram_id,
            None if current is None else current.until,
            None if current is None else current.overridden,
            None if second is None else second.telegram_id,
            None if shift is None else (shift.index, shift.person.telegram_id),
        )
        index = (OFFSET + m) // SHIFT_MINUTES
        want = (
            on_call[m],
            WALK_FROM + until[m] * MINUTE,
            overridden[m],
            backup[m],
            (index, ORDER[index % 3]),
        )
        if got != want:
            wrong.append(f"minute {m}: got {got}, want {want}")
    assert wrong == []


def test_week_spot_checks() -> None:
    # A few minutes of the walk spelled out, so the painting above is itself checked.
    roster = _roster(A, B, C)
    on_call, until, overridden, backup = _expected_week()
    assert (on_call[0], until[0], overridden[0], backup[0]) == (3, 30, True, 1)
    assert (on_call[30], until[30], overridden[30], backup[30]) == (3, 60, False, 1)
    assert (on_call[150], until[150], backup[150]) == (2, 200, 3)  # B overrides A: C backs up
    assert (on_call[520], backup[520], on_call[560], backup[560]) == (4, 2, 4, 3)
    assert (on_call[1050], until[1050], backup[1050]) == (3, 1100, 1)
    assert (on_call[1150], until[1150], backup[1150]) == (1, 1200, 2)  # A covers C: B backs up
    assert (on_call[1250], until[1250], backup[1250]) == (2, 1300, 1)  # later start wins
    assert (on_call[1350], until[1350]) == (1, 1400)
    assert (on_call[3030], until[3030], on_call[3080], until[3080]) == (3, 3060, 1, 3100)
    assert (on_call[3250], overridden[3250], backup[3250]) == (1, True, 2)
    assert (on_call[4050], overridden[4050]) == (3, False)  # the unknown person is ignored
    current = on_call_at(roster, [], WALK_FROM)
    assert current == OnCall(person=C, until=WALK_FROM + 60 * MINUTE, overridden=False)
