"""The roster: people, their roles, and the on-call rotation with its overrides.

Every instant handed in must be an aware datetime; every instant handed back is in UTC.
Shifts repeat every ``rotation.shift`` from ``rotation.start`` in absolute time (no wall-clock
arithmetic, so a time zone with daylight saving cannot stretch or shrink a shift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

__all__ = [
    "OnCall",
    "Override",
    "Person",
    "Role",
    "Roster",
    "Rotation",
    "Shift",
    "backup_at",
    "next_shift_change",
    "on_call_at",
    "shift_at",
    "shifts_between",
]


class Role(StrEnum):
    """What someone may do here, in order of power: anyone in the liaison chat reports; the
    roster names moderators and supervisors; everyone else is a stranger."""

    STRANGER = "stranger"
    REPORTER = "reporter"
    MODERATOR = "moderator"
    SUPERVISOR = "supervisor"

    def covers(self, needed: Role) -> bool:
        """True when this role may do what `needed` may."""
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone listed in the roster."""

    name: str
    telegram_id: int
    username: str | None  # without the leading @
    phone: str | None
    roles: frozenset[Role]

    @property
    def is_moderator(self) -> bool:
        """True when the person has the moderator role."""
        return Role.MODERATOR in self.roles

    @property
    def is_supervisor(self) -> bool:
        """True when the person has the supervisor role."""
        return Role.SUPERVISOR in self.roles


@dataclass(frozen=True, slots=True)
class Rotation:
    """Shifts of ``shift`` length repeating from ``start``, handed round ``order``."""

    start: datetime  # aware
    shift: timedelta
    order: tuple[int, ...]  # telegram ids of moderators; may repeat, may be empty

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError("rotation start must be an aware datetime")
        if self.shift <= timedelta():
            raise ValueError("rotation shift must be positive")


@dataclass(frozen=True, slots=True)
class Roster:
    """Everyone rostered, and the rotation (None when the file has no [rotation])."""

    people: tuple[Person, ...]
    rotation: Rotation | None

    def __post_init__(self) -> None:
        ids = [person.telegram_id for person in self.people]
        if len(set(ids)) != len(ids):
            raise ValueError("roster people must have distinct telegram ids")
        if self.rotation is not None:
            unknown = set(self.rotation.order) - set(ids)
            if unknown:
                raise ValueError(f"rotation order names unknown telegram ids: {sorted(unknown)}")

    def find_by_id(self, telegram_id: int) -> Person | None:
        """The person with this Telegram user id, or None."""
        for person in self.people:
            if person.telegram_id == telegram_id:
                return person
        return None

    def find_by_username(self, username: str) -> Person | None:
        """The person with this username (any case, leading @ allowed), or None."""
        wanted = username.strip().removeprefix("@").casefold()
        if not wanted:
            return None
        for person in self.people:
            if person.username is not None and person.username.casefold() == wanted:
                return person
        return None

    @property
    def moderators(self) -> tuple[Person, ...]:
        """People with the moderator role, in roster order."""
        return tuple(person for person in self.people if person.is_moderator)

    @property
    def supervisors(self) -> tuple[Person, ...]:
        """People with the supervisor role, in roster order."""
        return tuple(person for person in self.people if person.is_supervisor)


@dataclass(frozen=True, slots=True)
class Override:
    """``/oncall @user``: this person is on call over [start, end)."""

    person_id: int
    start: datetime  # aware
    end: datetime  # aware, exclusive


@dataclass(frozen=True, slots=True)
class Shift:
    """One scheduled shift; ``index`` counts shifts from rotation.start (negative before it)."""

    index: int
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    person: Person


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call at an instant, and until when that holds."""

    person: Person
    until: datetime  # UTC: the next instant the answer may change
    overridden: bool


# --- the rotation ---------------------------------------------------------------------------


def shift_at(roster: Roster, at: datetime) -> Shift | None:
    """The scheduled shift covering ``at`` (None with no rotation or an empty order)."""
    rotation = roster.rotation
    if rotation is None or not rotation.order:
        return None
    return _shift(roster, rotation, _index(rotation, _utc(at, "at")))


def on_call_at(roster: Roster, overrides: Sequence[Override], at: datetime) -> OnCall | None:
    """Who is on call at ``at``: the latest-starting override covering it, else the shift."""
    moment = _utc(at, "at")
    winner: Person | None = None
    winner_start = until = moment
    later: list[datetime] = []  # starts of overrides yet to come: each takes over then
    for override in overrides:
        start, end = override.start, override.end
        if start.tzinfo is not UTC:  # inline fast path: this loop runs for every query
            start = _utc(start, "override start")
        if end.tzinfo is not UTC:
            end = _utc(end, "override end")
        if end <= moment or end <= start:
            continue
        # An override for someone no longer in the roster is ignored.
        person = roster.find_by_id(override.person_id)
        if person is None:
            continue
        if start > moment:
            later.append(start)
        elif winner is None or start >= winner_start:  # ties: the later one given wins
            winner, winner_start, until = person, start, end
    overridden = winner is not None
    if winner is None:
        shift = shift_at(roster, moment)
        if shift is None:
            return None
        winner, until = shift.person, shift.end
    until = min([until, *later])
    return OnCall(person=winner, until=until, overridden=overridden)


def backup_at(roster: Roster, overrides: Sequence[Override], at: datetime) -> Person | None:
    """The next person in order after the scheduled one who is not on call; None if nobody."""
    rotation = roster.rotation
    if rotation is None or not rotation.order:
        return None
    current = on_call_at(roster, overrides, at)
    on_call_id = current.person.telegram_id if current is not None else None
    index = _index(rotation, _utc(at, "at"))
    size = len(rotation.order)
    for step in range(1, size + 1):
        candidate = rotation.order[(index + step) % size]
        if candidate != on_call_id:
            return _person(roster, candidate)
    return None


def shifts_between(roster: Roster, start: datetime, end: datetime) -> list[Shift]:
    """Scheduled shifts overlapping [start, end), in time order."""
    rotation = roster.rotation
    if rotation is None or not rotation.order:
        return []
    first, stop = _utc(start, "start"), _utc(end, "end")
    shifts: list[Shift] = []
    index = _index(rotation, first)
    while first < stop:
        shift = _shift(roster, rotation, index)
        if shift.start >= stop:
            break
        shifts.append(shift)
        index += 1
    return shifts


def next_shift_change(roster: Roster, after: datetime) -> datetime | None:
    """The first shift boundary strictly after ``after`` (None with no rotation or order)."""
    rotation = roster.rotation
    if rotation is None or not rotation.order:
        return None
    index = _index(rotation, _utc(after, "after")) + 1
    return _utc(rotation.start, "start") + index * rotation.shift


def _utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; comparing in one zone avoids same-tzinfo naive arithmetic."""
    zone = moment.tzinfo
    if zone is UTC:  # the common case: instants are stored and passed in UTC
        return moment
    if zone is None or zone.utcoffset(moment) is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def _index(rotation: Rotation, at: datetime) -> int:
    """Shift number covering ``at`` (UTC); floor division extends the rotation backwards."""
    # ``at`` is in UTC, so this subtraction uses both offsets whatever zone ``start`` is in.
    return (at - rotation.start) // rotation.shift


def _shift(roster: Roster, rotation: Rotation, index: int) -> Shift:
    """Shift number ``index`` of the rotation."""
    start = _utc(rotation.start, "rotation start") + index * rotation.shift
    person = _person(roster, rotation.order[index % len(rotation.order)])
    return Shift(index=index, start=start, end=start + rotation.shift, person=person)


def _person(roster: Roster, telegram_id: int) -> Person:
    """A person Roster.__post_init__ guarantees to exist."""
    person = roster.find_by_id(telegram_id)
    if person is None:  # pragma: no cover - Roster validates its rotation order
        raise LookupError(f"telegram id {telegram_id} is not in the roster")
    return person
