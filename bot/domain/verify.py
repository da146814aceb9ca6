"""`liaison-bot verify`: check a JSON export with nothing but the export (pure).

Every event's hash is recomputed from what the export shows; every `prev` must be the
hash of the event one `seq` before; `seq` runs 1, 2, 3 … with no gap; each ticket's
status, acknowledged_at, closed_at, outcome, report_count and urgent must be what its
events say. An older export must be a prefix of this one (the same `seq`, the same
hash); an anchor copied from the chat (`SEQ:HASH`) must match the event with that seq.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO, cast

from bot.domain.proof import ZERO, event_hash

# proof.canonical's encoding, built once (json.dumps with options builds one per call)
_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode

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
    try:
        return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))
    except ValueError:
        return bool(a == b)


def replay(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ticket's checked fields as its events (in seq order) say them."""
    state: dict[str, Any] = {
        "status": "open",
        "acknowledged_at": None,
        "closed_at": None,
        "outcome": None,
        "report_count": 1,
        "urgent": False,
    }
    for e in events:
        kind, at, data = e.get("kind"), e.get("at"), e.get("data") or {}
        if kind == "created":
            state["urgent"] = bool(data.get("urgent", False))
        elif kind == "duplicate":
            report = data.get("report") or 0
            state["report_count"] = report if report else state["report_count"] + 1
        elif kind == "urgent":
            state["urgent"] = True
        elif kind == "acknowledged":
            if state["status"] == "open":
                state["status"] = "acknowledged"
            state["acknowledged_at"] = state["acknowledged_at"] or at
        elif kind == "clarification":
            state["status"] = "clarification"
        elif kind == "clarified":
            state["status"] = "acknowledged" if state["acknowledged_at"] else "open"
        elif kind in ("removed", "rejected"):
            state["status"] = kind
            state["outcome"] = data.get("outcome", "removed") if kind == "removed" else "rejected"
            state["closed_at"] = at
            state["acknowledged_at"] = state["acknowledged_at"] or at
        elif kind == "reopened" and data.get("previous") is None:
            state.update(status="open", closed_at=None, outcome=None, acknowledged_at=None)
    return state


def _hash_of(ticket: int | None, e: Mapping[str, Any]) -> str:
    return event_hash(
        ticket=ticket,
        seq=e["seq"],
        prev=e["prev"],
        at=e["at"],
        actor_id=e["actor_id"],
        kind=e["kind"],
        detail=e["detail"],
        data=e["data"],
    )


def _fast_hash(ticket: int | None, e: Mapping[str, Any]) -> str:
    """`_hash_of` for what `read_export` gave (no floats: see `_Fraction`), without
    the domain check of every value: the same bytes, several times faster."""
    obj = {
        "actor_id": e["actor_id"],
        "at": e["at"],
        "data": e["data"],
        "detail": e["detail"],
        "kind": e["kind"],
        "prev": e["prev"],
        "seq": e["seq"],
        "ticket": ticket,
    }
    return hashlib.sha256(_encode(obj).encode("utf-8")).hexdigest()


def _where(ticket: int | None) -> str:
    return f"ticket #{ticket}" if ticket is not None else "no ticket"


_ABSENT, _SOUND, _UNSOUND = 0, 1, 2
_NO_HASH = b"\xff" * 32  # a `prev` or `hash` that is not 64 hex digits: equal to nothing
_FAR = 100_000  # a seq this far beyond the others is kept aside, not in the arrays


def _raw(text: Any) -> bytes:
    try:
        raw = bytes.fromhex(text) if isinstance(text, str) and len(text) == 64 else _NO_HASH
    except ValueError:
        return _NO_HASH
    return raw if text == raw.hex() else _NO_HASH  # upper case hex is not what was hashed


class _Chain:
    """Each seq's ticket, `prev`, `hash` and soundness in compact arrays (about 80 bytes per
    event instead of the parsed export): seq is the index."""

    def __init__(self) -> None:
        self.state = bytearray(1)
        self.tickets = array("q", [0])
        self.prevs = bytearray(32)
        self.hashes = bytearray(32)
        self.far: dict[int, tuple[int | None, bytes, bytes, bool]] = {}

    def put(self, seq: int, ticket: int | None, prev: bytes, digest: bytes, sound: bool) -> bool:
        """Record one event; False when its seq was already taken."""
        if seq < 1 or seq >= len(self.state) + _FAR:
            if seq in self.far:
                return False
            self.far[seq] = (ticket, prev, digest, sound)
            return True
        if seq >= len(self.state):
            grow = seq + 1 - len(self.state)
            self.state.extend(bytes(grow))
            self.tickets.extend([0] * grow)
            self.prevs.extend(bytes(32 * grow))
            self.hashes.extend(bytes(32 * grow))
        if self.state[seq] != _ABSENT:
            return False
        self.state[seq] = _SOUND if sound else _UNSOUND
        self.tickets[seq] = -1 if ticket is None else ticket
        self.prevs[32 * seq : 32 * seq + 32] = prev
        self.hashes[32 * seq : 32 * seq + 32] = digest
        return True

    def seqs(self) -> list[int]:
        """Every seq recorded, in order."""
        near = [s for s in range(1, len(self.state)) if self.state[s]]
        return sorted([*near, *self.far])

    def has(self, seq: int) -> bool:
        """Whether an event with this seq is in the export."""
        return seq in self.far or (0 < seq < len(self.state) and self.state[seq] != _ABSENT)

    def sound(self, seq: int) -> bool:
        """Its hash matches its content."""
        if seq in self.far:
            return self.far[seq][3]
        return self.state[seq] == _SOUND

    def ticket(self, seq: int) -> int | None:
        """The ticket it is listed under."""
        if seq in self.far:
            return self.far[seq][0]
        value = self.tickets[seq]
        return None if value == -1 else value

    def prev(self, seq: int) -> bytes:
        """Its `prev`."""
        if seq in self.far:
            return self.far[seq][1]
        return bytes(self.prevs[32 * seq : 32 * seq + 32])

    def hash(self, seq: int) -> bytes:
        """Its `hash`."""
        if seq in self.far:
            return self.far[seq][2]
        return bytes(self.hashes[32 * seq : 32 * seq + 32])


def _hex(raw: bytes) -> str:
    return raw.hex() if raw != _NO_HASH else "(not a hash)"


def _ticketless(t: Mapping[str, Any]) -> bool:
    """The export's element of events that belong to no ticket (anchors): no `id`."""
    return "id" not in t


def _read(
    export: Iterable[Any], problems: list[str], fast: bool
) -> tuple[_Chain, int, int, str | None]:
    if not isinstance(export, Iterable) or isinstance(export, str | bytes | Mapping):
        raise ExportFormatError("not a JSON export: expected a list of tickets")
    digest_of = _fast_hash if fast else _hash_of
    chain = _Chain()
    partial: str | None = None
    tickets = count = 0
    for t in export:
        if not isinstance(t, dict) or not isinstance(t.get("events"), list):
            raise ExportFormatError("not a JSON export: a ticket without an events list")
        partial = partial or t.get("export_since")
        ticketless = _ticketless(t)
        tid = None if ticketless else t.get("id")
        if not ticketless and not isinstance(tid, int):
            raise ExportFormatError("not a JSON export: a ticket without a number")
        tickets += 0 if ticketless else 1
        sound_ticket = True
        for e in t["events"]:
            count += 1
            try:
                seq = int(e["seq"])
                digest = digest_of(tid, e)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"{_where(tid)}: an event without a valid chain entry ({exc})")
                sound_ticket = False
                continue
            shown = e.get("hash")
            sound = digest == shown
            if not sound:
                problems.append(
                    f"seq {seq}, {_where(tid)}: the event's hash does not match its content "
                    f"({e.get('kind')} at {e.get('at')}: edited since it was recorded)"
                )
                sound_ticket = False
            if not chain.put(seq, tid, _raw(e.get("prev")), _raw(shown), sound):
                problems.append(f"seq {seq}, {_where(tid)}: seq used twice")
        if sound_ticket and not ticketless:
            problems.extend(_ticket_problems(t))
    return chain, tickets, count, partial


def _ticket_problems(t: Mapping[str, Any]) -> list[str]:
    events = sorted(t["events"], key=lambda e: int(e["seq"]))
    said = replay(events)
    last = events[-1]["seq"] if events else "-"
    out = []
    for name in CHECKED_FIELDS:
        shown = t.get(name)
        expected = said[name]
        same = _same_instant(shown, expected) if name.endswith("_at") else shown == expected
        if not same:
            out.append(
                f"seq {last}, ticket #{t.get('id')}: {name} is {shown!r} but its events say "
                f"{expected!r}"
            )
    return out


def verify(
    export: Any,
    previous: Any | None = None,
    anchors: Sequence[tuple[int, str]] = (),
    *,
    fast: bool = False,
) -> Verdict:
    """Check an export: the parsed JSON, or its tickets one at a time (an iterable, as
    `read_export` gives them: memory then holds one ticket and the compact chain); see the
    module text. `fast`: the tickets came from `json.loads` with floats refused."""
    problems: list[str] = []
    chain, tickets, count, partial = _read(export, problems, fast)
    seqs = chain.seqs()
    if seqs and not partial:
        expected = 1
        for seq in seqs:
            if seq > expected:
                span = f"seq {expected}" if seq == expected + 1 else f"seq {expected}-{seq - 1}"
                problems.append(f"{span}: missing (events removed)")
            expected = seq + 1
    for seq in seqs:
        if not chain.sound(seq) or (chain.has(seq - 1) and not chain.sound(seq - 1)):
            continue  # already reported: its own hash does not match
        where = _where(chain.ticket(seq))
        if seq == 1 and chain.prev(seq) != bytes.fromhex(ZERO):
            problems.append(f"seq 1, {where}: prev is not 64 zeros")
        elif chain.has(seq - 1) and chain.prev(seq) != chain.hash(seq - 1):
            problems.append(f"seq {seq}, {where}: prev is not the hash of seq {seq - 1}")
    if previous is not None:
        problems.extend(_prefix_problems(chain, previous))
    for seq, digest in anchors:
        if not chain.has(seq):
            problems.append(f"seq {seq}: anchored event not in this export (history cut)")
        elif _hex(chain.hash(seq)) != digest.lower():
            problems.append(
                f"seq {seq}, {_where(chain.ticket(seq))}: hash {_hex(chain.hash(seq))} differs "
                f"from the anchor {digest.lower()}"
            )
    head = (seqs[-1], _hex(chain.hash(seqs[-1]))) if seqs else None
    return Verdict(tuple(problems), tickets, count, head, partial)


def _prefix_problems(chain: _Chain, previous: Any) -> list[str]:
    if not isinstance(previous, Iterable) or isinstance(previous, str | bytes | Mapping):
        return ["--previous: not a JSON export"]
    old = _Chain()  # seq -> hash of the older export, as compact as this one's
    for t in previous:
        for e in t.get("events", []) if isinstance(t, dict) else []:
            if isinstance(e, dict) and "seq" in e:
                old.put(int(e["seq"]), None, _NO_HASH, _raw(e.get("hash")), True)
    out = []
    seqs = old.seqs()
    changed = [s for s in seqs if chain.has(s) and chain.hash(s) != old.hash(s)]
    if changed:
        first = changed[0]
        more = f" ({len(changed) - 1} later events differ too)" if len(changed) > 1 else ""
        out.append(
            f"seq {first}, {_where(chain.ticket(first))}: hash differs from the previous export "
            f"(edited since){more}"
        )
    gone = [s for s in seqs if not chain.has(s)]
    if gone:
        span = f"seq {gone[0]}" if len(gone) == 1 else f"seq {gone[0]}-{gone[-1]}"
        out.append(f"{span}: in the previous export but not in this one (removed or cut)")
    return out


class _Fraction:
    """A fractional number as read: tickets have some (`paused_seconds`); in an event it
    cannot be hashed (no encoder writes it), which reports that event."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _no_float(text: str) -> Any:
    return _Fraction(text)


def read_export(f: TextIO) -> Iterable[Any]:
    """The tickets of an export file: one per line as `liaison-bot export` writes them (read
    line by line: memory holds one), else the whole file as one JSON document (`/export`
    indents it). Fractional numbers are read as `_Fraction`: an event holding one does not
    verify. Raises ValueError."""
    first = f.readline()
    second = f.readline() if first.strip() == "[" else ""
    body = second.strip()
    if not (body.startswith("{") and body.rstrip(",").endswith("}")):
        f.seek(0)
        return cast(Iterable[Any], json.load(f, parse_float=_no_float))
    return _lines(f, second)


def _lines(f: TextIO, second: str) -> Iterator[Any]:
    number = 2
    line = second
    while line:
        text = line.strip()
        if text == "]":
            return
        if text:
            try:
                yield json.loads(text.removesuffix(","), parse_float=_no_float)
            except ValueError as exc:
                raise ExportFormatError(f"line {number}: not a ticket ({exc})") from None
        line = f.readline()
        number += 1
    raise ExportFormatError("the list of tickets does not end (a cut file?)")


def parse_anchor(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as typed on the command line; raises ValueError."""
    seq, sep, digest = text.partition(":")
    digest = digest.strip().lower()
    hexdigits = set("0123456789abcdef")
    if not sep or not seq.strip().isdigit() or len(digest) != 64 or set(digest) - hexdigits:
        raise ValueError(f"not SEQ:HASH (a number, a colon, 64 hex digits): {text!r}")
    return int(seq), digest
