"""Reading the roster file: TOML to a validated `Roster`, each refusal with its line.

The roster's meaning (people, roles, the rotation) is the pure domain (bot.domain.roster);
this module is the file format around it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bot.domain.durations import parse_duration
from bot.domain.roster import Person, Role, Roster, Rotation


class RosterError(ValueError):
    """A roster that cannot be used, with the 1-based line of the problem when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        where = f"roster line {line}" if line is not None else "roster"
        super().__init__(f"{where}: {reason}")


# --- reading the file -----------------------------------------------------------------------


def load_roster(path: Path) -> Roster:
    """Read and validate a roster TOML file; RosterError says what is wrong and where."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RosterError(f"file not found: {path.name}") from None
    except OSError as error:
        raise RosterError(f"cannot read {path.name}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(f"{path.name} is not UTF-8 text") from None
    return parse_roster(text)


def parse_roster(text: str) -> Roster:
    """Parse and validate roster TOML text; RosterError gives the line and the reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(error, text) from None
    layout = _Layout.scan(text)
    for key in data:
        if key not in ("person", "rotation"):
            line = layout.top.keys.get(key, layout.header_line(key))
            raise RosterError(f"unknown key {key!r} (expected [[person]] and [rotation])", line)
    people = _parse_people(data.get("person", []), layout)
    roster = Roster(people=people, rotation=None)
    if "rotation" not in data:
        return roster
    rotation = _parse_rotation(data["rotation"], roster, layout)
    return Roster(people=people, rotation=rotation)


_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def _syntax_error(error: tomllib.TOMLDecodeError, text: str) -> RosterError:
    """Keep tomllib's line (and column) in a RosterError."""
    message = str(error)
    found = _TOML_POSITION.search(message)
    if found is None:
        return RosterError(f"invalid TOML: {message}")
    reason = message[: found.start()]
    if found.group(1) is None:
        return RosterError(f"invalid TOML: {reason} at end of file", len(text.split("\n")))
    return RosterError(f"invalid TOML: {reason} (column {found.group(2)})", int(found.group(1)))


_PERSON_KEYS = ("name", "telegram_id", "username", "phone", "roles")
_ROTATION_KEYS = ("start", "shift", "order")
_ROLE_NAMES = frozenset({Role.MODERATOR.value, Role.SUPERVISOR.value})  # roster roles
_USERNAME = re.compile(r"[A-Za-z0-9_]+", re.ASCII)


def _parse_people(value: object, layout: _Layout) -> tuple[Person, ...]:
    """Every [[person]], validated, with duplicates refused."""
    if not isinstance(value, list):
        line = layout.header_line("person") or layout.top.keys.get("person")
        raise RosterError("write each person as a [[person]] table (double brackets)", line)
    people: list[Person] = []
    id_lines: dict[int, int | None] = {}
    username_lines: dict[str, int | None] = {}
    for number, entry in enumerate(value):
        block = layout.person(number)
        person = _parse_person(entry, number, block, layout)
        id_line = block.line_of("telegram_id")
        if person.telegram_id in id_lines:
            first = _first(id_lines[person.telegram_id])
            raise RosterError(f"telegram_id {person.telegram_id} is used twice{first}", id_line)
        id_lines[person.telegram_id] = id_line
        if person.username is not None:
            key = person.username.casefold()
            line = block.line_of("username")
            if key in username_lines:
                raise RosterError(
                    f"username {person.username!r} is used twice{_first(username_lines[key])}",
                    line,
                )
            username_lines[key] = line
        people.append(person)
    return tuple(people)


def _first(line: int | None) -> str:
    """Where the first of two duplicates is."""
    return f" (first on line {line})" if line is not None else ""


def _parse_person(entry: object, number: int, block: _Block, layout: _Layout) -> Person:
    """One [[person]] table."""
    if not isinstance(entry, dict):
        raise RosterError(f"person #{number + 1} must be a table", block.header)
    for key in entry:
        if key not in _PERSON_KEYS:
            raise RosterError(
                f"unknown key {key!r} for a person (expected {', '.join(_PERSON_KEYS)})",
                block.line_of(key),
            )
    name = entry.get("name")
    if name is None:
        raise RosterError(f"person #{number + 1} has no name", block.header)
    if not isinstance(name, str) or not name.strip():
        raise RosterError("name must be a non-empty string", block.line_of("name"))
    name = name.strip()
    telegram_id = entry.get("telegram_id")
    if telegram_id is None:
        raise RosterError(f"{name!r} has no telegram_id", block.header)
    if isinstance(telegram_id, bool) or not isinstance(telegram_id, int) or telegram_id <= 0:
        raise RosterError(
            f"telegram_id of {name!r} must be a positive integer (the numeric user id)",
            block.line_of("telegram_id"),
        )
    return Person(
        name=name,
        telegram_id=telegram_id,
        username=_parse_username(entry.get("username"), name, block),
        phone=_parse_phone(entry.get("phone"), name, block),
        roles=_parse_roles(entry.get("roles"), name, block, layout),
    )


def _parse_username(value: object, name: str, block: _Block) -> str | None:
    """Optional username, stored without the @."""
    if value is None:
        return None
    username = value.strip().removeprefix("@") if isinstance(value, str) else ""
    if not _USERNAME.fullmatch(username):
        raise RosterError(
            f"username of {name!r} must be letters, digits and _ (without @)",
            block.line_of("username"),
        )
    return username


def _parse_phone(value: object, name: str, block: _Block) -> str | None:
    """Optional phone number, kept as written."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RosterError(f"phone of {name!r} must be a string", block.line_of("phone"))
    return value.strip() or None


def _parse_roles(value: object, name: str, block: _Block, layout: _Layout) -> frozenset[Role]:
    """At least one known role."""
    if value is None:
        raise RosterError(f"{name!r} has no roles (moderator and/or supervisor)", block.header)
    if not isinstance(value, list):
        raise RosterError(
            f'roles of {name!r} must be a list, e.g. ["moderator"]', block.line_of("roles")
        )
    if not value:
        raise RosterError(
            f"roles of {name!r} is empty (moderator and/or supervisor)", block.line_of("roles")
        )
    roles: set[Role] = set()
    for item in value:
        text = item.strip().lower() if isinstance(item, str) else ""
        if text not in _ROLE_NAMES:
            raise RosterError(
                f"unknown role {item!r} for {name!r} (moderator or supervisor)",
                block.item_line("roles", item, layout.lines),
            )
        roles.add(Role(text))
    return frozenset(roles)


def _parse_rotation(value: object, roster: Roster, layout: _Layout) -> Rotation:
    """The [rotation] table, checked against the people."""
    block = layout.rotation
    if not isinstance(value, dict):
        line = layout.top.keys.get("rotation") or layout.header_line("rotation")
        raise RosterError("rotation must be a single [rotation] table", line)
    for key in value:
        if key not in _ROTATION_KEYS:
            raise RosterError(
                f"unknown key {key!r} in [rotation] (expected {', '.join(_ROTATION_KEYS)})",
                block.line_of(key),
            )
    for key in _ROTATION_KEYS:
        if key not in value:
            hint = " (use [] for nobody)" if key == "order" else ""
            raise RosterError(f"[rotation] has no {key}{hint}", block.header)
    start = _parse_start(value["start"], block.line_of("start"))
    shift_text = value["shift"]
    if not isinstance(shift_text, str):
        raise RosterError('rotation shift must be a duration such as "8h"', block.line_of("shift"))
    try:
        shift = parse_duration(shift_text)
    except ValueError as error:
        raise RosterError(f"rotation shift: {error}", block.line_of("shift")) from None
    order = value["order"]
    if not isinstance(order, list):
        raise RosterError("rotation order must be a list of usernames", block.line_of("order"))
    ids = tuple(_order_entry(item, roster, block, layout) for item in order)
    return Rotation(start=start, shift=shift, order=ids)


def _parse_start(value: object, line: int | None) -> datetime:
    """An aware start instant: a TOML offset date-time or an ISO 8601 string with offset."""
    example = "e.g. 2026-11-23T08:00:00+07:00"
    start: datetime
    if isinstance(value, datetime):
        start = value
    elif isinstance(value, str):
        try:
            start = datetime.fromisoformat(value.strip())
        except ValueError:
            raise RosterError(f"rotation start is not a date-time ({example})", line) from None
    elif isinstance(value, date):
        raise RosterError(f"rotation start needs a time and a time zone offset ({example})", line)
    else:
        raise RosterError(f"rotation start must be a date-time ({example})", line)
    if start.tzinfo is None or start.utcoffset() is None:
        raise RosterError(f"rotation start needs a time zone offset ({example})", line)
    return start


def _order_entry(item: object, roster: Roster, block: _Block, layout: _Layout) -> int:
    """One rotation order entry (a username, or a telegram id) -> a moderator's id."""
    line = (
        block.item_line("order", item, layout.lines)
        if isinstance(item, str | int)
        else block.line_of("order")
    )
    if isinstance(item, str):
        person = roster.find_by_username(item)
        if person is None:
            raise RosterError(f"rotation order names unknown username {item!r}", line)
    elif isinstance(item, int) and not isinstance(item, bool):
        person = roster.find_by_id(item)
        if person is None:
            raise RosterError(f"rotation order names unknown telegram_id {item}", line)
    else:
        raise RosterError("rotation order entries must be usernames", line)
    if not person.is_moderator:
        raise RosterError(
            f"{person.name!r} is in the rotation order but has no moderator role", line
        )
    return person.telegram_id


# --- where things are in the text -----------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


@dataclass(slots=True)
class _Block:
    """One table in the text: its header line, its last line and where its keys are."""

    header: int | None
    end: int
    keys: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        """Line of ``key``, else of the table header."""
        return self.keys.get(key, self.header)

    def item_line(self, key: str, item: object, lines: Sequence[str]) -> int | None:
        """Line of ``item`` inside the (maybe multi-line) array value of ``key``."""
        start = self.keys.get(key)
        if start is None:
            return self.header
        stop = min((line for line in self.keys.values() if line > start), default=self.end + 1)
        if isinstance(item, str):
            pattern = re.compile(rf"""(["']){re.escape(item)}\1""")
        else:
            pattern = re.compile(rf"(?<![\w.]){re.escape(str(item))}(?![\w.])")
        for number in range(start, stop):
            text = lines[number - 1]
            if number == start:
                text = text.split("=", 1)[1]
            if pattern.search(text):
                return number
        return start


@dataclass(slots=True)
class _Layout:
    """Just enough of the TOML structure to point error messages at lines."""

    lines: list[str]
    top: _Block
    persons: list[_Block]
    rotation: _Block
    headers: dict[str, int]

    @classmethod
    def scan(cls, text: str) -> _Layout:
        """Find table headers and key lines, skipping multi-line strings."""
        lines = [line.removesuffix("\r") for line in text.split("\n")]
        top = _Block(header=None, end=len(lines))
        current = top
        persons: list[_Block] = []
        rotation: _Block | None = None
        headers: dict[str, int] = {}
        open_string: str | None = None
        for number, line in enumerate(lines, start=1):
            if open_string is not None:
                if line.count(open_string) % 2 == 1:
                    open_string = None
                continue
            header = _HEADER.match(line)
            if header is not None:
                current.end = number - 1
                name = re.sub(r"\s+", "", header.group(2))
                headers.setdefault(name, number)
                current = _Block(header=number, end=len(lines))
                if header.group(1) == "[[" and name == "person":
                    persons.append(current)
                elif header.group(1) == "[" and name == "rotation" and rotation is None:
                    rotation = current
                continue
            key = _KEY.match(line)
            if key is not None:
                current.keys.setdefault(key.group(1).strip("\"'"), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    open_string = quote
                    break
        if rotation is None:  # an inline `rotation = {...}`: point at that line
            rotation = _Block(header=top.keys.get("rotation"), end=len(lines))
        return cls(lines=lines, top=top, persons=persons, rotation=rotation, headers=headers)

    def person(self, number: int) -> _Block:
        """The block of the ``number``-th person (0-based)."""
        if number < len(self.persons):
            return self.persons[number]
        return _Block(header=self.top.keys.get("person"), end=len(self.lines))

    def header_line(self, name: str) -> int | None:
        """Line of the first header of table ``name`` or of one of its sub-tables."""
        lines = [line for header, line in self.headers.items() if header.split(".")[0] == name]
        return min(lines, default=None)
