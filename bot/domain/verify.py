"""`liaison-bot verify`: check a JSON export with nothing but the export (pure).

Every event's hash is recomputed from what the export shows; every `prev` must be the
hash of the event one `seq` before; `seq` runs 1, 2, 3 … with no gap; each ticket's
status, acknowledged_at, closed_at, outcome, report_count and urgent must be what its
events say. An older export must be a prefix of this one (the same `seq`, the same
hash); an anchor copied from the chat (`SEQ:HASH`) must match the event with that seq.

The work is in two steps so that a large file can be checked on every core: `scan` (or
`scan_lines` for a stretch of a one-ticket-per-line file) hashes the events of some
tickets and checks those tickets on their own, giving a `Part`: the problems found and
each event's seq, ticket, `prev` and `hash` in compact arrays sorted by seq. `judge`
joins the parts, in file order, into one chain and checks it as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from operator import itemgetter
from typing import Any, cast

from bot.domain.proof import check_value, encode

CHECKED_FIELDS = ("status", "acknowledged_at", "closed_at", "outcome", "report_count", "urgent")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `verify` found."""

    problems: tuple[str, ...]
    tickets: int
    events: int
    head: tuple[int, str] | None  # the last event's (seq, hash)
    partial: str | None = None  # `--since` of a partial export

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def summary(self) -> str:
        """The `OK …` line, or the problems one per line."""
        if self.problems:
            return "\n".join(self.problems)
        head = f"head seq {self.head[0]} hash {self.head[1]}" if self.head else "no events"
        text = f"OK: {self.tickets} tickets, {self.events} events, {head}"
        if self.partial:
            text += (
                f" (partial export: tickets created since {self.partial}; events outside it"
                " are not in the file and were not checked)"
            )
        return text


class ExportFormatError(ValueError):
    """The file is not an export (not a list of tickets with events)."""


def _same_instant(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a == b:
        return True
    try:
        return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))
    except ValueError:
        return False


def replay(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ticket's checked fields as its events (in seq order) say them."""
    status, acknowledged, closed, outcome, reports, urgent = "open", None, None, None, 1, False
    for e in events:
        kind = e.get("kind")
        if type(kind) is not str or kind in _SILENT:
            continue
        at, data = e.get("at"), e.get("data")
        if type(data) is not dict:
            data = {}
        if kind == "created":
            urgent = bool(data.get("urgent", False))
        elif kind == "acknowledged":
            if status == "open":
                status = "acknowledged"
            acknowledged = acknowledged or at
        elif kind == "removed" or kind == "rejected":
            status = kind
            outcome = data.get("outcome", "removed") if kind == "removed" else "rejected"
            closed = at
            acknowledged = acknowledged or at
        elif kind == "duplicate":
            report = data.get("report")  # the count it made (older rows: none)
            reports = report if type(report) is int and report > 0 else reports + 1
        elif kind == "urgent":
            urgent = True
        elif kind == "clarification":
            status = "clarification"
        elif kind == "clarified":
            status = "acknowledged" if acknowledged else "open"
        elif kind == "reopened" and data.get("previous") is None:
            status, closed, outcome, acknowledged = "open", None, None, None
    return {
        "status": status,
        "acknowledged_at": acknowledged,
        "closed_at": closed,
        "outcome": outcome,
        "report_count": reports,
        "urgent": urgent,
    }


# kinds that change none of the checked fields
_SILENT = frozenset(
    {"note", "escalated", "assigned", "edited", "categorized", "anchored", "evidence_purged"}
)


def _where(ticket: int | None) -> str:
    return f"ticket #{ticket}" if ticket is not None else "no ticket"


Problem = tuple[int, str]  # the seq it is about (0: none), the line verify prints


def _at(seq: int, ticket: int | None, what: str) -> Problem:
    """A problem with one event."""
    return seq, f"seq {seq}, {_where(ticket)}: {what}"


def _span(first: int, last: int, what: str) -> Problem:
    """A problem with the seqs first to last."""
    return first, f"seq {first}{'' if first == last else f'-{last}'}: {what}"


_ABSENT, _SOUND, _UNSOUND = 0, 1, 2  # a seq's state in the chain
_NO_HASH = b"\xff" * 32  # a `prev` or `hash` that is not 64 hex digits: equal to nothing
_NOT_HEX = _NO_HASH.hex()
_NO_TICKET = -(2**63)  # in the tickets array: an event of no ticket
_MAX_INT = 2**53 - 1  # the largest seq or ticket number RFC 8785 writes exactly
_LOWER_HEX = re.compile("[0-9a-f]*")
_ZERO = bytes(32)  # `prev` of seq 1
_FAR = 100_000  # slack for seqs beyond twice the events seen: kept aside, not in the arrays
_CHUNK = 4096  # seqs compared at once
# a number of 16 digits or more (maybe beyond 2**53) after what may precede a number: a
# line with one (or a string that looks so) gets the full check of every value
_NUMBERS = bytes.maketrans(b"123456789 :,[-", b"000000000#####")
_LONG_NUMBER = b"#" + b"0" * 16
_PRESENT_RUN = re.compile(rb"[^\x00]+")


def _raw(text: Any) -> bytes:
    """A hash as bytes; `_NO_HASH` for anything but 64 lower-case hex digits."""
    if type(text) is str and len(text) == 64 and text.islower():  # one letter at least
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            return _NO_HASH
        return raw if len(raw) == 32 else _NO_HASH  # fromhex skips spaces
    if type(text) is str and len(text) == 64 and text.isdigit() and text.isascii():
        return bytes.fromhex(text)
    return _NO_HASH


def _hex(raw: bytes) -> str:
    return raw.hex() if raw != _NO_HASH else "(not a hash)"


@dataclass(slots=True)
class Part:
    """What a stretch of an export holds, checked on its own (see the module text). The
    arrays are sorted by seq, one entry per seq (a seq met twice is reported and its later
    event left out); `ticket` _NO_TICKET is no ticket."""

    seqs: array[int] = field(default_factory=lambda: array("q"))
    tickets: array[int] = field(default_factory=lambda: array("q"))
    prevs: bytearray = field(default_factory=bytearray)  # 32 bytes per event
    hashes: bytearray = field(default_factory=bytearray)  # 32 bytes per event, as shown
    states: bytearray = field(default_factory=bytearray)  # _SOUND or _UNSOUND
    problems: list[Problem] = field(default_factory=list)
    tickets_seen: int = 0
    events: int = 0
    partial: str | None = None
    lines: int = 0  # lines of the file that start in this stretch
    ended: bool = False  # the stretch holds the `]` that closes the list
    error: tuple[int, str] | None = None  # (line within the stretch, why): not an export


class _Scan:
    """Builds a `Part` one ticket at a time."""

    def __init__(self, hashes_only: bool = False) -> None:
        self.part = Part()
        self.hashes_only = hashes_only
        # one entry per event, in file order, until `done` sorts them into the part
        self.seqs: list[int] = []
        self.tickets: list[int] = []
        self.prevs: list[str] = []  # as shown (64 characters), made bytes all at once
        self.hashes: list[bytes] = []
        self.states = bytearray()

    def ticket(self, t: Any, careful: bool) -> None:
        """Hash and record one element of the export (a ticket, or the events of no ticket);
        `careful`: check every value for what the canonical encoding refuses (else only
        what the encoder cannot write). Raises ExportFormatError."""
        if not isinstance(t, dict) or not isinstance(t.get("events"), list):
            raise ExportFormatError("not a JSON export: a ticket without an events list")
        part = self.part
        part.partial = part.partial or t.get("export_since")
        ticketless = "id" not in t  # the last element: events of no ticket (anchors)
        tid = None if ticketless else t["id"]
        if not ticketless and (type(tid) is not int or not 0 < tid <= _MAX_INT):
            raise ExportFormatError("not a JSON export: a ticket without a number")
        part.tickets_seen += 0 if ticketless else 1
        if self.hashes_only:
            for e in t["events"]:
                seq = e.get("seq") if isinstance(e, dict) else None
                if type(seq) is int and 0 < seq <= _MAX_INT:
                    self._put(seq, tid, _NO_HASH, _raw(e.get("hash")), True)
            return
        sound_ticket = self._events(tid, t["events"], careful)
        if sound_ticket and not ticketless:
            part.problems.extend(_ticket_problems(t))

    def _events(self, tid: int | None, events: list[Any], careful: bool) -> bool:
        part, sha256, sound_all = self.part, hashlib.sha256, True
        seqs, tickets, states = self.seqs.append, self.tickets.append, self.states.append
        prevs, hashes = self.prevs.append, self.hashes.append
        listed = _NO_TICKET if tid is None else tid
        part.events += len(events)
        for e in events:
            if type(e) is not dict:
                part.problems.append((0, f"{_where(tid)}: an event that is not an object"))
                sound_all = False
                continue
            seq = e.get("seq")
            if type(seq) is not int or not 0 < seq <= _MAX_INT:
                part.problems.append((0, f"{_where(tid)}: an event without a valid seq ({seq!r})"))
                sound_all = False
                continue
            hashed = dict(e) if careful else e  # the event exactly as shown, without `hash`,
            shown = hashed.pop("hash", None)  # plus `ticket`: the ticket it is listed under
            if "ticket" in hashed and hashed["ticket"] != tid:  # the bot writes none
                part.problems.append(_at(seq, tid, f"the event names ticket {hashed['ticket']!r}"))
                sound_all = False
            hashed["ticket"] = tid
            prev = hashed.get("prev")
            if type(prev) is not str or len(prev) != 64:
                prev = _NOT_HEX
            try:
                if careful:
                    check_value(hashed)
                digest = sha256(encode(hashed).encode("utf-8"))
            except (TypeError, ValueError) as exc:  # a fraction, 2**53, a lone surrogate …
                part.problems.append(_at(seq, tid, f"an event that cannot be hashed ({exc})"))
                sound, raw = False, _raw(shown)
            else:
                sound = digest.hexdigest() == shown
                raw = digest.digest() if sound else _raw(shown)
                if not sound:
                    edited = f"{e.get('kind')} at {e.get('at')}: edited since it was recorded"
                    part.problems.append(
                        _at(seq, tid, f"the event's hash does not match its content ({edited})")
                    )
            sound_all = sound_all and sound
            seqs(seq)
            tickets(listed)
            prevs(prev)
            hashes(raw)
            states(_SOUND if sound else _UNSOUND)
        return sound_all

    def _put(self, seq: int, tid: int | None, prev: bytes, digest: bytes, sound: bool) -> None:
        self.seqs.append(seq)
        self.tickets.append(_NO_TICKET if tid is None else tid)
        self.prevs.append(prev.hex())
        self.hashes.append(digest)
        self.states.append(_SOUND if sound else _UNSOUND)

    def done(self) -> Part:
        """The part, its arrays sorted by seq, a seq met twice reported."""
        part, seqs = self.part, self.seqs
        kept: list[int] | None = None  # None: already in order, nothing left out
        if not all(a < b for a, b in pairwise(seqs)):
            order = sorted(range(len(seqs)), key=seqs.__getitem__)  # stable: file order kept
            kept = []
            for i in order:
                if kept and seqs[kept[-1]] == seqs[i]:
                    if not self.hashes_only:
                        number = self.tickets[i]
                        listed = None if number == _NO_TICKET else number
                        part.problems.append(_at(seqs[i], listed, "seq used twice"))
                    continue
                kept.append(i)
        pick = (lambda values: values) if kept is None else _picker(kept)
        part.seqs = array("q", pick(seqs))
        part.tickets = array("q", pick(self.tickets))
        prevs = "".join(pick(self.prevs))
        if _LOWER_HEX.fullmatch(prevs):  # the usual case: one conversion for all
            part.prevs = bytearray.fromhex(prevs)
        else:
            part.prevs = bytearray(b"".join(_raw(p) for p in pick(self.prevs)))
        part.hashes = bytearray(b"".join(pick(self.hashes)))
        part.states = bytearray(pick(self.states))
        return part


def _picker(indices: list[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A function taking the items at `indices` of a sequence (in C, for many at once)."""
    if len(indices) == 1:
        return lambda values: [values[indices[0]]]
    if not indices:
        return lambda values: []
    return cast(Callable[[Sequence[Any]], Sequence[Any]], itemgetter(*indices))


def _tid(part: Part, i: int) -> int | None:
    value = part.tickets[i]
    return None if value == _NO_TICKET else value


def _ticket_problems(t: Mapping[str, Any]) -> list[Problem]:
    events = t["events"]
    seqs = [e["seq"] for e in events]
    if any(a > b for a, b in pairwise(seqs)):
        events = sorted(events, key=itemgetter("seq"))
    said = replay(events)
    out = []
    for name in CHECKED_FIELDS:
        shown, expected = t.get(name), said[name]
        if shown == expected and type(shown) is type(expected):  # 1 is not True
            continue
        if name.endswith("_at") and _same_instant(shown, expected):
            continue
        said_so = f"{name} is {shown!r} but its events say {expected!r}"
        if events:  # at the ticket's last event
            out.append(_at(events[-1]["seq"], t.get("id"), said_so))
        else:
            out.append((0, f"{_where(t.get('id'))}: {said_so}"))
    return out


_BOM = "\ufeff"


def scan(export: Any, hashes_only: bool = False) -> Part:
    """The part of a whole parsed export (its tickets, or any iterable of them), every
    value checked. Raises ExportFormatError."""
    if not isinstance(export, Iterable) or isinstance(export, str | bytes | Mapping):
        raise ExportFormatError("not a JSON export: expected a list of tickets")
    builder = _Scan(hashes_only)
    for t in export:
        builder.ticket(t, careful=True)
    builder.part.ended = True
    return builder.done()


class _Fraction:
    """A fractional number as read: tickets have some (`paused_seconds`); in an event it
    cannot be hashed (the encoder refuses it), which reports that event."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


_decoder = json.JSONDecoder(parse_float=_Fraction)


def parse(text: str | bytes) -> Any:
    """JSON as `verify` reads it: fractional numbers kept apart (see `_Fraction`); bytes
    are UTF-8. Raises ValueError."""
    return _decoder.decode(
        (text if isinstance(text, str) else text.decode("utf-8")).removeprefix(_BOM)
    )


def scan_lines(lines: Iterable[bytes], *, first: bool, hashes_only: bool = False) -> Part:
    """The part of a stretch of a one-ticket-per-line export (`liaison-bot export`): each
    line a ticket, a trailing comma allowed; `first`: the stretch starts the file, with
    the `[` line. A line that is not a ticket ends the stretch with `error`."""
    builder = _Scan(hashes_only)
    part = builder.part
    for number, line in enumerate(lines):
        part.lines += 1
        text = line.strip()
        if first and number == 0:
            text = text.removeprefix(b"\xef\xbb\xbf")  # a byte order mark, as editors write
        if not text or (first and number == 0 and text == b"["):
            continue
        if text == b"]":
            part.ended = True
            break
        try:
            ticket = parse(text.removesuffix(b","))
            # `_Fraction` stands for floats; an integer of 16 digits or more may be beyond
            # what RFC 8785 writes exactly: only such lines get the full check
            builder.ticket(ticket, careful=_LONG_NUMBER in text.translate(_NUMBERS))
        except ValueError as exc:  # json's errors, ExportFormatError, invalid UTF-8
            if isinstance(exc, ExportFormatError):
                part.error = (number, str(exc).removeprefix("not a JSON export: "))
            else:
                part.error = (number, f"not a ticket ({exc})")
            break
    return builder.done()


class _Chain:
    """Each seq's ticket, `prev`, `hash` and state in compact arrays (about 73 bytes per
    event instead of the parsed export), at index seq - `base`: `base` is 0 for a whole
    export, just below the first seq of a partial one (`--since`). A seq outside the
    arrays' reach (below `base`, or far beyond the events seen: a hostile file) is kept
    aside in `far` instead of growing them."""

    def __init__(self) -> None:
        self.base: int | None = None  # set by the first part
        self.state = bytearray(1)
        self.tickets = array("q", [0])
        self.prevs = bytearray(32)
        self.hashes = bytearray(32)
        self.far: dict[int, tuple[int | None, bytes, bytes, bool]] = {}
        self.top = 0  # the highest seq in the arrays (base: none)
        self.events = 0

    def _grow(self, size: int) -> None:
        size = max(size, 2 * len(self.state))
        grow = size - len(self.state)
        self.state.extend(bytes(grow))
        self.tickets.extend(array("q", bytes(8 * grow)))
        self.prevs.extend(bytes(32 * grow))
        self.hashes.extend(bytes(32 * grow))

    def add(self, part: Part, problems: list[Problem]) -> None:
        """Take a part's events; a seq already taken is reported."""
        seqs, n, i = part.seqs, len(part.seqs), 0
        if self.base is None:
            if not n:
                return
            self.base = self.top = max(0, seqs[0] - 1)
        base = self.base
        self.events += n
        limit = base + 2 * self.events + _FAR
        while i < n:
            start = seqs[i]
            if start <= base or start >= limit:
                self._put_far(part, i, problems)
                i += 1
                continue
            # the longest run seqs[i:j] of consecutive seqs (sorted, no repeats): galloping
            step, j = 1, i + 1
            while j + step <= n and seqs[j + step - 1] - start == j + step - 1 - i:
                j += step
                step *= 2
            while step > 1:
                step //= 2
                if j + step <= n and seqs[j + step - 1] - start == j + step - 1 - i:
                    j += step
            end = min(start + j - i, limit)  # seqs [start, end) go in, the rest next round
            j = i + end - start
            lo, hi = start - base, end - base  # their indexes
            if hi > len(self.state):
                self._grow(hi)
            aside = any(start <= seq < end for seq in self.far) if self.far else False
            if not aside and self.state.count(_ABSENT, lo, hi) == hi - lo:
                self.state[lo:hi] = part.states[i:j]
                self.tickets[lo:hi] = part.tickets[i:j]
                self.prevs[32 * lo : 32 * hi] = part.prevs[32 * i : 32 * j]
                self.hashes[32 * lo : 32 * hi] = part.hashes[32 * i : 32 * j]
            else:
                for k in range(i, j):
                    self._put_near(part, k, problems)
            self.top = max(self.top, end - 1)
            i = j

    def _put_near(self, part: Part, k: int, problems: list[Problem]) -> None:
        seq = part.seqs[k]
        at = seq - (self.base or 0)
        if self.state[at] != _ABSENT or seq in self.far:
            problems.append(_at(seq, _tid(part, k), "seq used twice"))
            return
        self.state[at] = part.states[k]
        self.tickets[at] = part.tickets[k]
        self.prevs[32 * at : 32 * at + 32] = part.prevs[32 * k : 32 * k + 32]
        self.hashes[32 * at : 32 * at + 32] = part.hashes[32 * k : 32 * k + 32]

    def _put_far(self, part: Part, k: int, problems: list[Problem]) -> None:
        seq = part.seqs[k]
        if self.has(seq):
            problems.append(_at(seq, _tid(part, k), "seq used twice"))
            return
        self.far[seq] = (
            _tid(part, k),
            bytes(part.prevs[32 * k : 32 * k + 32]),
            bytes(part.hashes[32 * k : 32 * k + 32]),
            part.states[k] == _SOUND,
        )

    def _index(self, seq: int) -> int | None:
        """Where a seq is in the arrays (None: not there)."""
        at = seq - (self.base or 0)
        return at if 0 < at < len(self.state) and self.state[at] != _ABSENT else None

    def seqs_far(self) -> list[int]:
        """The seqs kept aside, in order."""
        return sorted(self.far)

    def last(self) -> int | None:
        """The highest seq recorded."""
        near = self.top if self.top != (self.base or 0) else None
        highest = max(self.far, default=None)
        if near is None or (highest is not None and highest > near):
            return highest
        return near

    def has(self, seq: int) -> bool:
        """Whether an event with this seq is in the export."""
        return seq in self.far or self._index(seq) is not None

    def sound(self, seq: int) -> bool:
        """Its hash matches its content (it is in the export)."""
        if seq in self.far:
            return self.far[seq][3]
        return self.state[seq - (self.base or 0)] == _SOUND

    def ticket(self, seq: int) -> int | None:
        """The ticket it is listed under (it is in the export)."""
        if seq in self.far:
            return self.far[seq][0]
        value = self.tickets[seq - (self.base or 0)]
        return None if value == _NO_TICKET else value

    def prev(self, seq: int) -> bytes:
        """Its `prev` (it is in the export)."""
        if seq in self.far:
            return self.far[seq][1]
        at = 32 * (seq - (self.base or 0))
        return bytes(self.prevs[at : at + 32])

    def hash(self, seq: int) -> bytes:
        """Its `hash` (it is in the export)."""
        if seq in self.far:
            return self.far[seq][2]
        at = 32 * (seq - (self.base or 0))
        return bytes(self.hashes[at : at + 32])

    def spans(self) -> list[tuple[int, int]]:
        """The runs [first, last] of seqs present, in order."""
        base = self.base or 0
        found = _PRESENT_RUN.finditer(self.state, 1, self.top - base + 1)
        near = [(m.start() + base, m.end() - 1 + base) for m in found]
        return sorted([*near, *((s, s) for s in self.far)])

    def gaps(self) -> list[tuple[int, int]]:
        """The missing spans [first, last] from seq 1 to the highest seq."""
        out, expected = [], 1
        for first, last in self.spans():
            if first > expected:
                out.append((expected, first - 1))
            expected = max(expected, last + 1)
        return out

    def link_problems(self) -> list[Problem]:
        """Each `prev` that is not the hash of the seq before (where both are sound)."""
        out: list[Problem] = []
        if self.has(1) and self.sound(1) and self.prev(1) != _ZERO:
            out.append(_at(1, self.ticket(1), "prev is not 64 zeros"))
        base = self.base or 0
        state, prevs, hashes = self.state, memoryview(self.prevs), memoryview(self.hashes)
        for lo in range(2, self.top - base + 1, _CHUNK):  # indexes [lo, hi) against one less
            hi = min(lo + _CHUNK, self.top - base + 1)
            whole = state.count(_SOUND, lo - 1, hi) == hi - lo + 1
            if whole and prevs[32 * lo : 32 * hi] == hashes[32 * (lo - 1) : 32 * (hi - 1)]:
                continue
            seqs = range(lo + base, hi + base)
            out.extend(self._link(seq) for seq in seqs if self._broken(seq))
        out.extend(self._link(seq) for seq in self.seqs_far() if self._broken(seq))
        return out

    def _broken(self, seq: int) -> bool:
        if seq == 1 or not self.has(seq) or not self.sound(seq) or not self.has(seq - 1):
            return False
        return self.sound(seq - 1) and self.prev(seq) != self.hash(seq - 1)

    def _link(self, seq: int) -> Problem:
        return _at(seq, self.ticket(seq), f"prev is not the hash of seq {seq - 1}")


def judge(
    parts: Iterable[Part],
    previous: Iterable[Part] | None = None,
    anchors: Sequence[tuple[int, str]] = (),
) -> Verdict:
    """Join the parts of an export (in file order) and check the chain; `previous`: the
    parts (hashes only) of an older export, which must be a prefix of this one."""
    problems: list[Problem] = []
    chain = _Chain()
    tickets = events = 0
    partial: str | None = None
    for part in parts:
        problems.extend(part.problems)
        chain.add(part, problems)
        tickets += part.tickets_seen
        events += part.events
        partial = partial or part.partial
    if not partial:
        problems.extend(
            _span(first, last, "missing (events removed)") for first, last in chain.gaps()
        )
    problems.extend(chain.link_problems())
    if previous is not None:
        old = _Chain()
        for part in previous:
            old.add(part, [])
        problems.extend(_prefix_problems(chain, old))
    for seq, digest in anchors:
        if not chain.has(seq):
            problems.append(_span(seq, seq, "anchored event not in this export (history cut)"))
        elif _hex(chain.hash(seq)) != digest.lower():
            differs = f"hash {_hex(chain.hash(seq))} differs from the anchor {digest.lower()}"
            problems.append(_at(seq, chain.ticket(seq), differs))
    top = chain.last()
    head = (top, _hex(chain.hash(top))) if top is not None else None
    # in chain order, whatever the cut of the file into parts (sorted() is stable)
    ordered = sorted(problems, key=itemgetter(0))
    return Verdict(tuple(text for _, text in ordered), tickets, events, head, partial)


def verify(
    export: Any, previous: Any | None = None, anchors: Sequence[tuple[int, str]] = ()
) -> Verdict:
    """Check a parsed export (its list of tickets, or any iterable of them); see the module
    text. Raises ExportFormatError."""
    older = None
    if previous is not None:
        try:
            older = [scan(previous, hashes_only=True)]
        except ExportFormatError:
            return Verdict(("--previous: not a JSON export",), 0, 0, None)
    return judge([scan(export)], older, anchors)


def _prefix_problems(chain: _Chain, old: _Chain) -> list[Problem]:
    changed: list[int] = []
    gone: list[int] = []
    same_base = chain.base == old.base
    new_hashes, old_hashes = memoryview(chain.hashes), memoryview(old.hashes)
    for first, last in old.spans():
        for lo in range(first, last + 1, _CHUNK):
            hi = min(lo + _CHUNK, last + 1)  # seqs [lo, hi), all in the older export
            a, b = lo - (chain.base or 0), hi - (chain.base or 0)
            if same_base and a > 0 and b <= min(len(chain.state), len(old.state)):
                present = chain.state.count(_ABSENT, a, b) == old.state.count(_ABSENT, a, b) == 0
                if present and new_hashes[32 * a : 32 * b] == old_hashes[32 * a : 32 * b]:
                    continue
            for seq in range(lo, hi):
                if not chain.has(seq):
                    gone.append(seq)
                elif chain.hash(seq) != old.hash(seq):
                    changed.append(seq)
    out = []
    if changed:
        first = changed[0]
        more = f" ({len(changed) - 1} later events differ too)" if len(changed) > 1 else ""
        edited = f"hash differs from the previous export (edited since){more}"
        out.append(_at(first, chain.ticket(first), edited))
    if gone:
        cut = "in the previous export but not in this one (removed or cut)"
        out.append(_span(gone[0], gone[-1], cut))
    return out


def parse_anchor(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as typed on the command line; raises ValueError."""
    seq, sep, digest = text.partition(":")
    digest = digest.strip().lower()
    hexdigits = set("0123456789abcdef")
    if not sep or not seq.strip().isdigit() or len(digest) != 64 or set(digest) - hexdigits:
        raise ValueError(f"not SEQ:HASH (a number, a colon, 64 hex digits): {text!r}")
    return int(seq), digest
