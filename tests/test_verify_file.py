"""`liaison-bot verify FILE` on files: the same verdict on one core or many, at every cut
of the file into stretches, and a one-line answer for every hostile file.

The exports here are written as `liaison-bot export` writes them (one ticket per line)
with a realistic chain: tickets open at the same time, so their events interleave in
`seq`, and some stay open long (their late events sit far from their first).
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import bot.domain.verify as verify_module
import bot.verifier as verifier
from bot.domain.proof import ZERO, event_hash
from bot.domain.verify import ExportFormatError, judge, scan
from bot.sandbox.demo import rechain
from bot.verifier import verify_file
from tests.test_proof import ROOT, run_verify


def history(tickets: int, seed: int = 7) -> list[dict[str, Any]]:
    """Records with a valid chain: up to 12 tickets open at once, every 9th open long."""
    rng = random.Random(seed)  # noqa: S311 - the shape of a history, not a secret
    records: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], list[str]]] = []
    seq, prev = 0, ZERO
    t = 0

    def add(record: dict[str, Any] | None, kind: str, **data: Any) -> None:
        nonlocal seq, prev, t
        seq, t = seq + 1, t + rng.randint(1, 90)
        day, clock = 1 + t // 86400, f"{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
        at = f"2026-11-{day:02d}T{clock}+00:00"
        fields = {
            "seq": seq,
            "prev": prev,
            "at": at,
            "actor_id": 5001 if kind != "created" else 4001,
            "kind": kind,
            "detail": data.get("text", kind),
            "data": data,
        }
        prev = event_hash(ticket=record["id"] if record else None, **fields)
        event = {**fields, "hash": prev}
        if record is None:
            records.append({"export_since": None, "events": [event]})
            return
        record["events"].append(event)
        if kind == "acknowledged" and record["acknowledged_at"] is None:
            record.update(acknowledged_at=at, status="acknowledged")
        if kind == "removed":
            record.update(status="removed", closed_at=at, outcome="removed")

    for n in range(1, tickets + 1):
        record = {
            "id": n,
            "link": f"https://t.me/chan_{n % 37}/{n}",
            "status": "open",
            "urgent": False,
            "report_count": 1,
            "acknowledged_at": None,
            "closed_at": None,
            "outcome": None,
            "paused_seconds": 0.0,
            "category": "gambling" if n % 3 else None,
            "order": None,
            "export_since": None,
            "events": [],
        }
        records.append(record)
        add(record, "created", urgent=False, link=record["link"], evidence="é\n\x01 ✓")
        steps = ["acknowledged", "note", "removed"]
        pending.append((record, steps if n % 9 else ["note", *steps]))
        while len(pending) > 12 or (n == tickets and pending):
            index = rng.randrange(len(pending)) if n % 9 else 0
            owner, left = pending[index]
            kind = left.pop(0)
            add(owner, kind, **({"outcome": "removed"} if kind == "removed" else {"text": "cek"}))
            if not left:
                pending.pop(index)
    tickets_only = [r for r in records if "id" in r]
    anchors = [e for r in records if "id" not in r for e in r["events"]]
    return tickets_only + ([{"export_since": None, "events": anchors}] if anchors else [])


def write(records: list[dict[str, Any]], path: Path) -> Path:
    """As `liaison-bot export` writes it."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i, record in enumerate(records):
            out.write(",\n" if i else "\n")
            out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n]\n")
    return path


def events_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((e for r in records for e in r["events"]), key=lambda e: e["seq"])


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return history(400)


@contextmanager
def stretches_of(size: int) -> Iterator[None]:
    """Every file cut into stretches of `size` bytes, checked by a pool of threads."""
    saved = verifier.STRETCH, verifier.ALONE_BELOW, verifier._pool
    verifier.STRETCH, verifier.ALONE_BELOW = size, 0
    verifier._pool = ThreadPoolExecutor  # type: ignore[assignment]
    try:
        yield
    finally:
        verifier.STRETCH, verifier.ALONE_BELOW, verifier._pool = saved


def tampered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Five kinds of damage at once, far apart in the file."""
    bad = copy.deepcopy(records)
    bad[3]["events"][1]["detail"] = "nothing to see"  # edited
    bad[40]["events"].pop(2)  # removed (its note)
    bad[200]["events"].append(copy.deepcopy(bad[100]["events"][0]))  # a seq twice
    bad[300]["status"] = "open"  # a ticket changed without an event
    bad[350]["events"][0]["data"]["n"] = 2**53  # beyond RFC 8785
    return bad


def test_a_sound_history_verifies_at_every_cut(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = write(records, tmp_path / "export.json")
    whole = judge([scan(json.loads(path.read_text("utf-8")))])
    assert whole.ok, whole.problems
    assert whole.events == len(events_of(records))
    size = path.stat().st_size
    start = len(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))  # of line 4
    # the first cut just before the newline, at the line's start, just after it …
    for stretch in (start - 1, start, start + 1, 997, 4096, size // 3, size // 2 + 1, size):
        with stretches_of(stretch):
            assert verify_file(path, jobs=3) == whole, stretch


def test_the_problems_are_the_same_on_one_core_or_many(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = write(tampered(records), tmp_path / "bad.json")
    serial = verify_file(path, jobs=1)
    edited, lost = records[3]["events"][1], records[40]["events"][2]["seq"]
    copied = records[100]["events"][0]
    assert serial.problems == (  # in chain order
        f"seq {edited['seq']}, ticket #4: the event's hash does not match its content "
        f"(acknowledged at {edited['at']}: edited since it was recorded)",
        f"seq {lost}: missing (events removed)",
        f"seq {copied['seq']}, ticket #201: the event's hash does not match its content "
        f"(created at {copied['at']}: edited since it was recorded)",
        f"seq {copied['seq']}, ticket #201: seq used twice",
        f"seq {records[300]['events'][-1]['seq']}, ticket #301: status is 'open' but its events "
        "say 'removed'",
        f"seq {records[350]['events'][0]['seq']}, ticket #351: an event that cannot be hashed "
        f"(integer out of the exact range of RFC 8785: {2**53})",
    ), serial.problems
    size = path.stat().st_size
    for stretch in (1000, 4099, size // 7, size // 2):
        with stretches_of(stretch):
            assert verify_file(path, jobs=4) == serial, stretch


def test_worker_processes_give_the_verdict_of_one(tmp_path: Path) -> None:
    """A file big enough to be checked by worker processes (over `ALONE_BELOW`)."""
    records = history(9000, seed=3)
    path = write(tampered(records), tmp_path / "big.json")
    assert path.stat().st_size > verifier.ALONE_BELOW
    one, two = run_verify(str(path), "--jobs", "1"), run_verify(str(path), "--jobs", "2")
    assert one.returncode == two.returncode == 1, one.stderr + two.stderr
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == 6
    good = write(records, tmp_path / "good.json")
    head = events_of(records)[-1]
    anchor = f"{head['seq']}:{head['hash']}"
    ok = run_verify(str(good), "--previous", str(good), "--anchor", anchor)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 9000 tickets"), ok.stdout + ok.stderr


def rehash(ticket: dict[str, Any], index: int, **changes: Any) -> None:
    """A forger who recomputes the changed event's own hash."""
    event = ticket["events"][index]
    event.update(changes)
    fields = {k: event[k] for k in ("seq", "prev", "at", "actor_id", "kind", "detail", "data")}
    event["hash"] = event_hash(ticket=ticket["id"], **fields)


def line_form(path: Path, lines: list[str]) -> Path:
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", "utf-8")
    return path


def first_ticket(records: list[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(records[0])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda t: t["events"][0].update(data={"x": 1.5}), "an event that cannot be hashed (1.5 "),
        (lambda t: t["events"][0]["data"].update(n=-(2**60)), "integer out of the exact range"),
        (
            lambda t: t["events"][0].update(hash=t["events"][0]["hash"].upper()),
            "hash does not match",
        ),
        (lambda t: t["events"][0].update(extra="added"), "hash does not match"),
        (lambda t: t["events"][0].update(ticket=99), "the event names ticket 99"),
        (lambda t: t["events"].append("not an event"), "an event that is not an object"),
        (lambda t: t["events"][0].update(seq="1"), "an event without a valid seq ('1')"),
        (lambda t: t["events"][0].update(seq=0), "an event without a valid seq (0)"),
        (lambda t: t["events"][0].update(seq=10**30), f"an event without a valid seq ({10**30})"),
        (lambda t: t["events"][0].update(kind=["created"]), "hash does not match"),
        (lambda t: t["events"][0].update(detail="\ud800"), "cannot be hashed"),
        (lambda t: rehash(t, 1, prev="AB" * 32), "ticket #1: prev is not the hash"),
        (lambda t: rehash(t, 1, prev=" " + "a" * 63), "ticket #1: prev is not the hash"),
        (lambda t: rehash(t, 1, prev="0" * 64), "ticket #1: prev is not the hash"),
        (lambda t: t.update(urgent=1), "urgent is 1 but its events say False"),
    ],
)
def test_a_damaged_event_is_one_line(
    records: list[dict[str, Any]], tmp_path: Path, damage: Any, expected: str
) -> None:
    ticket = first_ticket(records)
    damage(ticket)
    rest = [json.dumps(r, ensure_ascii=False) for r in records[1:]]
    path = line_form(tmp_path / "e.json", [json.dumps(ticket), *rest])
    verdict = verify_file(path, jobs=1)
    assert not verdict.ok
    assert any(expected in p for p in verdict.problems), verdict.problems
    whole = judge([scan(json.loads(path.read_text("utf-8"), parse_float=lambda s: float(s)))])
    assert whole.ok is False  # the in-memory reader agrees that it is damaged


def test_a_seq_far_beyond_the_others_is_kept_aside(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    damaged = copy.deepcopy(records)
    damaged[5]["events"][-1]["seq"] = 10**15
    verdict = verify_file(write(damaged, tmp_path / "far.json"), jobs=1)
    late = records[5]["events"][-1]["seq"]
    assert f"seq {late}: missing (events removed)" in verdict.problems
    assert any(
        p.startswith(f"seq {10**15}, ticket #6: the event's hash") for p in verdict.problems
    )
    assert verdict.head is not None and verdict.head[0] == 10**15


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "bad export: not a JSON export"),
        (b'[\n{"id": 1, "events": []},\n', "bad export: the list of tickets does not end"),
        (b'[\n{"id": 1, "events": []},\nnot json\n]\n', "bad export: line 3: not a ticket"),
        (
            b'[\n{"id": 1, "events": []},\n[1, 2]\n]\n',
            "bad export: line 3: a ticket without an events list",
        ),
        (b'[\n{"id": "1", "events": []}\n]\n', "bad export: line 2: a ticket without a number"),
        (b'[\n{"id": 1%s, "events": []}\n]\n' % (b"0" * 30), "line 2: a ticket without a number"),
        (b'[\n{"id": 0, "events": []}\n]\n', "bad export: line 2: a ticket without a number"),
        (b'[\n{"id": 1, "events": [], "x": "\xff"}\n]\n', "bad export: line 2: not a ticket"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "not a JSON export"),
        (b'{"id": 1}', "bad export: not a JSON export: expected a list of tickets"),
    ],
)
def test_a_file_that_is_not_an_export_gets_one_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    result = run_verify(str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_missing_file_and_a_bad_jobs_count(tmp_path: Path) -> None:
    result = run_verify(str(tmp_path / "none.json"))
    assert result.returncode == 2 and "cannot check" in result.stderr
    result = run_verify(str(tmp_path / "none.json"), "--jobs", "0")
    assert result.returncode == 2 and "--jobs" in result.stderr


def test_a_byte_order_mark_is_read_past(records: list[dict[str, Any]], tmp_path: Path) -> None:
    lines, whole = tmp_path / "lines.json", tmp_path / "whole.json"
    lines.write_bytes(b"\xef\xbb\xbf" + write(records, tmp_path / "e.json").read_bytes())
    whole.write_bytes(b"\xef\xbb\xbf" + json.dumps(records, indent=1).encode())
    assert verify_file(lines, jobs=1).ok and verify_file(whole, jobs=1).ok


def test_an_export_after_the_closing_bracket_is_not_read(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = write(records, tmp_path / "e.json")
    with path.open("a", encoding="utf-8") as f:
        f.write("trailing words\n")
    assert verify_file(path, jobs=1).ok


def test_the_export_itself_is_rejected_when_structure_is_wrong() -> None:
    with pytest.raises(ExportFormatError):
        scan({"id": 1})


def test_the_other_side_needs_only_python_and_the_source(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """`python3 -S -m bot.verifier`: no site-packages at all, a copy of the source tree."""
    shutil.copytree(ROOT / "bot", tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    write(records, tmp_path / "export.json")
    bad = write(tampered(records), tmp_path / "bad.json")
    head = events_of(records)[-1]

    def alone(*args: str) -> subprocess.CompletedProcess[str]:
        return run_verify(*args, command=("-S", "-m", "bot.verifier"), cwd=tmp_path)

    ok = alone("export.json", "--anchor", f"{head['seq']}:{head['hash']}")
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 400 tickets"), ok.stderr
    assert alone("bad.json").stdout == run_verify(str(bad)).stdout
    assert alone("bad.json").returncode == 1


def test_a_partial_export_is_checked_for_what_it_holds(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """`liaison-bot export --since`: the tickets created since a day, a stretch of the chain
    that starts far from seq 1 (held in the arrays from its first seq, not kept aside)."""
    since = records[200]["events"][0]["at"][:10]
    partial = [{**r, "export_since": since} for r in records if "id" in r and r["id"] > 200]
    path = write(partial, tmp_path / "partial.json")
    verdict = verify_file(path, jobs=1)
    assert verdict.ok, verdict.problems
    assert verdict.partial == since and verdict.tickets == 200
    part = scan(json.loads(path.read_text("utf-8")))
    chain = verify_module._Chain()
    chain.add(part, [])
    assert chain.far == {} and chain.base == partial[0]["events"][0]["seq"] - 1
    partial[50]["events"][1]["at"] = "2026-11-01T00:00:00+00:00"  # back-dated
    [problem] = verify_file(write(partial, tmp_path / "edited.json"), jobs=1).problems
    assert problem.startswith(f"seq {partial[50]['events'][1]['seq']}, ticket #251: the event's")


def test_forged_but_consistent_data_is_judged_not_crashed_on(
    records: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A forger who re-hashes can put any value in an event's data: the ticket check
    compares, it does not trip (a count that is text, an outcome that is a list)."""
    forged = copy.deepcopy(records)
    ticket = forged[0]
    ticket["events"].insert(1, copy.deepcopy(ticket["events"][0]))
    ticket["events"][1].update(kind="duplicate", data={"report": "many"})
    ticket["events"][2]["kind"] = "duplicate"
    ticket["events"][-1]["data"] = {"outcome": ["removed"]}
    ordered = sorted((e for r in forged for e in r["events"]), key=lambda e: (e["seq"], id(e) % 7))
    for seq, event in enumerate(ordered, 1):  # the inserted copy gets a seq of its own
        event["seq"] = seq
    rechain(forged)
    problems = verify_file(write(forged, tmp_path / "forged.json"), jobs=1).problems
    assert any("report_count is 1 but its events say 3" in p for p in problems), problems
    assert any("outcome is 'removed' but its events say ['removed']" in p for p in problems)
