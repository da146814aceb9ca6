"""`liaison-bot verify`: check a JSON export with nothing but the export (pure).

Every event's hash is recomputed from what the export shows; every `prev` must be the
hash of the event one `seq` before; `seq` runs 1, 2, 3 … with no gap; each ticket's
status, acknowledged_at, closed_at, outcome, report_count and urgent must be what its
events say. An older export must be a prefix of this one (the same `seq`, the same
hash); an anchor copied from the chat (`SEQ:HASH`) must match the event with that seq.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.proof import ZERO, event_hash

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


@dataclass(frozen=True, slots=True)
class _Row:
    seq: int
    ticket: int
    prev: str
    hash: str
    sound: bool  # its hash matches its content


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


def _hash_of(ticket: int, e: Mapping[str, Any]) -> str:
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


def _rows(export: Any, problems: list[str]) -> tuple[dict[int, _Row], int, int, str | None]:
    if not isinstance(export, list):
        raise ExportFormatError("not a JSON export: expected a list of tickets")
    rows: dict[int, _Row] = {}
    partial: str | None = None
    count = 0
    for t in export:
        if not isinstance(t, dict) or not isinstance(t.get("events"), list):
            raise ExportFormatError("not a JSON export: a ticket without an events list")
        partial = partial or t.get("export_since")
        tid = t.get("id")
        if not isinstance(tid, int):
            raise ExportFormatError("not a JSON export: a ticket without a number")
        sound_ticket = True
        for e in t["events"]:
            count += 1
            try:
                seq = int(e["seq"])
                digest = _hash_of(tid, e)
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"ticket #{tid}: an event without a valid chain entry ({exc})")
                sound_ticket = False
                continue
            sound = digest == e.get("hash")
            if not sound:
                problems.append(
                    f"seq {seq}, ticket #{tid}: the event's hash does not match its content "
                    f"({e.get('kind')} at {e.get('at')}: edited since it was recorded)"
                )
                sound_ticket = False
            if seq in rows:
                problems.append(f"seq {seq}, ticket #{tid}: seq used twice")
            rows[seq] = _Row(seq, tid, str(e.get("prev")), str(e.get("hash")), sound)
        if sound_ticket:
            problems.extend(_ticket_problems(t))
    return rows, len(export), count, partial


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
) -> Verdict:
    """Check an export (the parsed JSON); see the module text."""
    problems: list[str] = []
    rows, tickets, count, partial = _rows(export, problems)
    seqs = sorted(rows)
    if seqs and not partial:
        expected = 1
        for seq in seqs:
            if seq > expected:
                span = f"seq {expected}" if seq == expected + 1 else f"seq {expected}-{seq - 1}"
                problems.append(f"{span}: missing (events removed)")
            expected = seq + 1
    for seq in seqs:
        row = rows[seq]
        before = rows.get(seq - 1)
        if not row.sound or (before is not None and not before.sound):
            continue  # already reported: its own hash does not match
        if seq == 1 and row.prev != ZERO:
            problems.append(f"seq 1, ticket #{row.ticket}: prev is not 64 zeros")
        elif before is not None and row.prev != before.hash:
            problems.append(
                f"seq {seq}, ticket #{row.ticket}: prev is not the hash of seq {seq - 1}"
            )
    if previous is not None:
        problems.extend(_prefix_problems(rows, previous))
    for seq, digest in anchors:
        anchored = rows.get(seq)
        if anchored is None:
            problems.append(f"seq {seq}: anchored event not in this export (history cut)")
        elif anchored.hash != digest.lower():
            problems.append(
                f"seq {seq}, ticket #{anchored.ticket}: hash {anchored.hash} differs from "
                f"the anchor {digest.lower()}"
            )
    head = (seqs[-1], rows[seqs[-1]].hash) if seqs else None
    return Verdict(tuple(problems), tickets, count, head, partial)


def _prefix_problems(rows: Mapping[int, _Row], previous: Any) -> list[str]:
    old: dict[int, str] = {}
    for t in previous if isinstance(previous, list) else []:
        for e in t.get("events", []) if isinstance(t, dict) else []:
            if isinstance(e, dict) and "seq" in e:
                old[int(e["seq"])] = str(e.get("hash"))
    if not isinstance(previous, list):
        return ["--previous: not a JSON export"]
    out = []
    changed = [s for s in sorted(old) if s in rows and rows[s].hash != old[s]]
    if changed:
        first = rows[changed[0]]
        more = f" ({len(changed) - 1} later events differ too)" if len(changed) > 1 else ""
        out.append(
            f"seq {first.seq}, ticket #{first.ticket}: hash differs from the previous export "
            f"(edited since){more}"
        )
    gone = [s for s in sorted(old) if s not in rows]
    if gone:
        span = f"seq {gone[0]}" if len(gone) == 1 else f"seq {gone[0]}-{gone[-1]}"
        out.append(f"{span}: in the previous export but not in this one (removed or cut)")
    return out


def parse_anchor(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as typed on the command line; raises ValueError."""
    seq, sep, digest = text.partition(":")
    digest = digest.strip().lower()
    hexdigits = set("0123456789abcdef")
    if not sep or not seq.strip().isdigit() or len(digest) != 64 or set(digest) - hexdigits:
        raise ValueError(f"not SEQ:HASH (a number, a colon, 64 hex digits): {text!r}")
    return int(seq), digest
