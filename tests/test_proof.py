"""The tamper-evident record (SPEC "Proof"): an append-only history in one hash chain, and
`verify`, which checks an export with nothing but the export.

A scripted history through the services (every event kind, a purge, a reopen) exports and
verifies; each kind of tampering is reported with the right line and nothing else.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.events import EventKind, Note, new_event
from bot.domain.links import normalise_link
from bot.domain.proof import ZERO, canonical, evidence_hash, sha256
from bot.domain.tickets import Outcome
from bot.domain.verify import parse_anchor, replay, verify
from bot.export import load_records, stream_records, write_json
from bot.notices import AnchorNotice
from bot.services import EvidenceIn, Intake, Services
from storage import outbox
from storage import repository as repo
from storage.db import Database, StorageError
from tests.e2e.harness import ANDI, CHAT, RINA, SUP_CHAT
from tests.test_previous_release_fixture import load
from tests.test_services import POLICY, T0, config

ROOT = Path(__file__).resolve().parent.parent


# ---- canonical encoding (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ({"b": 1, "a": [True, False, None]}, b'{"a":[true,false,null],"b":1}'),
        ({"t": 'say "hi"\\'}, b'{"t":"say \\"hi\\"\\\\"}'),
        ({"t": "a\nb\tc\r\x08\x0c"}, b'{"t":"a\\nb\\tc\\r\\b\\f"}'),
        ({"t": "\x00\x1f\x7f"}, b'{"t":"\\u0000\\u001f\x7f"}'),
        ({"t": "Kominfo – ✓ €"}, '{"t":"Kominfo – ✓ €"}'.encode()),
        ({"t": "😀/"}, '{"t":"😀/"}'.encode()),
        ({"n": -1002003004005, "z": 0}, b'{"n":-1002003004005,"z":0}'),
        ({"nested": {"y": {}, "x": []}}, b'{"nested":{"x":[],"y":{}}}'),
    ],
)
def test_canonical_json_is_rfc_8785(value: Any, encoded: bytes) -> None:
    assert canonical(value) == encoded


@pytest.mark.parametrize("bad", [{"x": 1.5}, {"x": [2**53]}, {1: "key not a string"}])
def test_canonical_json_refuses_what_rfc_8785_would_write_otherwise(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical(bad)


def test_anchor_argument() -> None:
    assert parse_anchor("12:" + "AB" * 32) == (12, "ab" * 32)
    for bad in ("12", "x:" + "a" * 64, "3:abc", "3:" + "g" * 64):
        with pytest.raises(ValueError, match="SEQ:HASH"):
            parse_anchor(bad)


# ---- a scripted history ----------------------------------------------------------------------


def _intake(link: str, message_id: int, **kw: Any) -> Intake:
    parsed = normalise_link(link)
    assert parsed is not None
    return Intake(CHAT, message_id, RINA, [parsed], **kw)


async def script(svc: Services, clock: FakeClock) -> None:
    """Every event kind, a reopen, a ticket back after closing, and an evidence purge."""
    words = EvidenceIn(text="Konten propaganda", media=("file-1",), origin="Kanal X")
    await svc.report(_intake("t.me/propaganda/1", 10, evidence=words))  # created
    await svc.report(_intake("t.me/propaganda/1", 11, urgent=True))  # duplicate, urgent
    await svc.report(_intake("t.me/propaganda/2", 12))
    await svc.report_edited(_intake("t.me/propaganda/2", 12))  # edited (its link kept)
    clock.advance(timedelta(minutes=20))
    await svc.escalate_due()  # escalated (ack reminders)
    await svc.acknowledge(ANDI, [1])
    await svc.note(ANDI, 1, "checking — ✓")
    await svc.clarify(ANDI, 2, "which post?")
    clock.advance(timedelta(minutes=5))
    await svc.note(RINA, 2, "the second one")  # clarified
    await svc.assign(ANDI, 2, "@budi_mod")
    await svc.set_category(ANDI, 2, "judol")  # categorized
    await svc.close(ANDI, [1], Outcome.RESTRICTED, "blocked in ID")
    await svc.reject(ANDI, 2, "not propaganda")
    clock.advance(timedelta(hours=1))
    await svc.reopen(RINA, 2, "it is back")  # reopened with a reason
    async with svc.db.read() as conn:
        head = await repo.find_chain_head(conn)
    await svc.record_anchor(CHAT, 900, head)  # anchored: an event of no ticket
    await svc.close(ANDI, [2], Outcome.GONE)
    await svc.report(_intake("t.me/propaganda/1", 13))  # content back: ticket 3
    clock.advance(timedelta(days=181))
    await svc.purge_evidence(clock.now())  # evidence_purged


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[tuple[Database, Services, FakeClock]]:
    db = await Database.open(tmp_path / "t.db")
    clock = FakeClock(T0)
    svc = Services(db, clock, config())
    await script(svc, clock)
    yield db, svc, clock
    await db.close()


@pytest.fixture
async def exported(history: tuple[Database, Services, FakeClock]) -> list[dict[str, Any]]:
    return await load_records(history[0], POLICY)


def events_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((e for r in records for e in r["events"]), key=lambda e: e["seq"])


async def test_a_scripted_history_exports_and_verifies(exported: list[dict[str, Any]]) -> None:
    events = events_of(exported)
    assert {e["kind"] for e in events} == {k.value for k in EventKind}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["prev"] == ZERO
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(events))
    verdict = verify(exported)
    assert verdict.ok, verdict.problems
    assert verdict.summary() == (
        f"OK: 3 tickets, {len(events)} events, head seq {len(events)} hash {events[-1]['hash']}"
    )


async def test_created_holds_the_evidence_hash_and_the_purge_keeps_it(
    history: tuple[Database, Services, FakeClock], exported: list[dict[str, Any]]
) -> None:
    db = history[0]
    created = exported[0]["events"][0]
    assert created["data"]["evidence"] == evidence_hash(
        text="Konten propaganda",
        media=["file-1"],
        origin="Kanal X",
        origin_chat_id=None,
        origin_message_id=None,
        origin_date=None,
    )
    assert exported[2]["events"][0]["data"]["evidence"] is None  # nothing kept: no hash
    assert any(e["kind"] == "evidence_purged" for e in exported[0]["events"])
    async with db.read() as conn:
        assert await repo.list_evidence(conn, 1) == []  # the content went; its hash stays


async def test_the_history_is_append_only(history: tuple[Database, Services, FakeClock]) -> None:
    db = history[0]
    for statement in ("UPDATE events SET detail = 'x' WHERE id = 1", "DELETE FROM events"):
        with pytest.raises(StorageError, match="append-only"):
            async with db.transaction() as conn:
                await conn.execute(statement)
    assert verify(await load_records(db, POLICY)).ok


async def test_a_rolled_back_transaction_leaves_no_gap(
    history: tuple[Database, Services, FakeClock],
) -> None:
    db, svc, clock = history

    async def fails() -> None:
        async with db.transaction() as conn:
            await repo.add_events(conn, [new_event(1, clock.now(), ANDI, Note(text="lost"))])
            raise RuntimeError("a bug after the write")

    with pytest.raises(RuntimeError):
        await fails()
    await svc.note(ANDI, 1, "kept")
    records = await load_records(db, POLICY)
    assert verify(records).ok
    notes = [e["detail"] for e in records[0]["events"] if e["kind"] == "note"]
    assert "lost" not in notes and "kept" in notes


async def test_the_streamed_export_is_the_export(
    history: tuple[Database, Services, FakeClock], tmp_path: Path
) -> None:
    db = history[0]
    out = tmp_path / "export.json"
    with out.open("w", encoding="utf-8") as f:
        assert await write_json(stream_records(db, POLICY, page=2), f) == 3
    assert json.loads(out.read_text("utf-8")) == await load_records(db, POLICY)


async def test_an_anchor_and_its_delivery_are_one_transaction(
    history: tuple[Database, Services, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between recording the anchor and marking its message sent would post it a
    second time: both are written together, or neither."""
    db, svc, clock = history
    async with db.transaction() as conn:
        [row] = await outbox.add_outbox_many(conn, [(SUP_CHAT, AnchorNotice())], clock.now())
        head = await repo.find_chain_head(conn)
    real = outbox.mark_outbox_sent

    async def fails(*args: Any) -> None:
        raise StorageError("disk I/O error")

    monkeypatch.setattr(outbox, "mark_outbox_sent", fails)
    with pytest.raises(StorageError):
        await svc.record_anchor(SUP_CHAT, 77, head, [row])
    async with db.read() as conn:
        assert row in [item.id for item in await outbox.list_pending_outbox(conn)]
        assert await repo.find_chain_head(conn) == head  # no anchored event
    monkeypatch.setattr(outbox, "mark_outbox_sent", real)
    await svc.record_anchor(SUP_CHAT, 77, head, [row])
    async with db.read() as conn:
        assert row not in [item.id for item in await outbox.list_pending_outbox(conn)]
        seq, _ = await repo.find_chain_head(conn)
    assert seq == head[0] + 1
    anchors = [e for e in events_of(await load_records(db, POLICY)) if e["kind"] == "anchored"]
    assert [(a["data"]["message_id"], a["data"]["seq"]) for a in anchors][-1] == (77, head[0])


# ---- tampering -----------------------------------------------------------------------------


def find(records: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(e for r in records for e in r["events"] if e["kind"] == kind)


def problems_of(records: Any, **kw: Any) -> list[str]:
    return list(verify(records, **kw).problems)


async def test_an_edited_detail_or_time_is_reported(exported: list[dict[str, Any]]) -> None:
    for key, value in (("detail", "nothing to see"), ("at", "2026-11-20T00:00:00+00:00")):
        records = copy.deepcopy(exported)
        note = find(records, "note")
        note[key] = value
        assert problems_of(records) == [
            f"seq {note['seq']}, ticket #1: the event's hash does not match its content "
            f"(note at {note['at']}: edited since it was recorded)"
        ]


async def test_a_removed_event_is_reported(exported: list[dict[str, Any]]) -> None:
    records = copy.deepcopy(exported)
    note = find(records, "note")
    records[0]["events"].remove(note)
    assert problems_of(records) == [f"seq {note['seq']}: missing (events removed)"]


async def test_two_swapped_events_are_reported(exported: list[dict[str, Any]]) -> None:
    records = copy.deepcopy(exported)
    note, clarification = find(records, "note"), find(records, "clarification")
    note["seq"], clarification["seq"] = clarification["seq"], note["seq"]
    found = problems_of(records)
    assert found and all(
        p.startswith((f"seq {note['seq']},", f"seq {clarification['seq']},")) for p in found
    )
    assert any("hash does not match" in p for p in found)


async def test_a_ticket_changed_without_an_event_is_reported(
    exported: list[dict[str, Any]],
) -> None:
    records = copy.deepcopy(exported)
    records[0]["closed_at"] = "2026-11-23T02:30:00+00:00"
    last = max(e["seq"] for e in records[0]["events"])
    [problem] = problems_of(records)
    assert problem.startswith(f"seq {last}, ticket #1: closed_at is '2026-11-23T02:30:00+00:00'")
    records = copy.deepcopy(exported)
    records[1]["status"] = "open"
    last = max(e["seq"] for e in records[1]["events"])
    assert problems_of(records) == [
        f"seq {last}, ticket #2: status is 'open' but its events say 'removed'"
    ]


async def test_a_cut_tail_is_caught_by_the_previous_export_or_an_anchor(
    exported: list[dict[str, Any]],
) -> None:
    head = events_of(exported)[-1]
    records = copy.deepcopy(exported)
    owner = next(r for r in records if any(e["seq"] == head["seq"] for e in r["events"]))
    owner["events"] = [e for e in owner["events"] if e["seq"] != head["seq"]]
    assert problems_of(records) == []  # the file alone cannot tell
    assert problems_of(records, previous=exported) == [
        f"seq {head['seq']}: in the previous export but not in this one (removed or cut)"
    ]
    assert problems_of(records, anchors=[(head["seq"], head["hash"])]) == [
        f"seq {head['seq']}: anchored event not in this export (history cut)"
    ]


def rechain(records: list[dict[str, Any]]) -> None:
    """What a forger with the encoding does: recompute every hash after an edit."""
    from bot.domain.proof import event_hash

    owner = {id(e): r.get("id") for r in records for e in r["events"]}
    prev = ZERO
    for e in events_of(records):
        e["prev"] = prev
        fields = {k: e[k] for k in ("seq", "prev", "at", "actor_id", "kind", "detail", "data")}
        e["hash"] = prev = event_hash(ticket=owner[id(e)], **fields)


async def test_a_recomputed_chain_is_caught_by_the_previous_export_and_an_anchor(
    exported: list[dict[str, Any]],
) -> None:
    records = copy.deepcopy(exported)
    note = find(records, "note")
    note["detail"] = "nothing to see"
    rechain(records)
    assert problems_of(records) == []  # consistent in itself
    head = events_of(exported)[-1]
    later = head["seq"] - note["seq"]
    assert problems_of(records, previous=exported) == [
        f"seq {note['seq']}, ticket #1: hash differs from the previous export (edited since) "
        f"({later} later events differ too)"
    ]
    [problem] = problems_of(records, anchors=[(head["seq"], head["hash"])])
    assert problem.startswith(f"seq {head['seq']}, ticket #")
    assert "differs from the anchor" in problem


async def test_a_partial_export_is_checked_for_what_it_holds(
    history: tuple[Database, Services, FakeClock],
) -> None:
    db = history[0]
    tickets = await load_records(db, POLICY)
    since = tickets[2]["created_at"]
    from datetime import datetime

    partial = await load_records(db, POLICY, datetime.fromisoformat(since))
    assert [r["id"] for r in partial if "id" in r] == [3]  # and the anchor after it
    verdict = verify(partial)
    assert verdict.ok, verdict.problems
    assert "partial export: tickets created since" in verdict.summary()
    partial[0]["events"][0]["detail"] = "forged"
    assert len(verify(partial).problems) == 1


def test_replay_reads_fields_from_events() -> None:
    at = "2026-11-23T02:00:00+00:00"
    later = "2026-11-23T03:00:00+00:00"
    created = {"kind": "created", "at": at, "data": {"urgent": False}}
    cases: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
        ([created], {"status": "open", "report_count": 1}),
        ([created, {"kind": "duplicate", "at": at, "data": {"report": 2}}], {"report_count": 2}),
        ([created, {"kind": "urgent", "at": at, "data": {}}], {"urgent": True}),
        (
            [created, {"kind": "acknowledged", "at": later, "data": {}}],
            {"status": "acknowledged", "acknowledged_at": later},
        ),
        (
            [created, {"kind": "removed", "at": later, "data": {"outcome": "banned"}}],
            {"status": "removed", "outcome": "banned", "closed_at": later},
        ),
        (
            [
                created,
                {"kind": "rejected", "at": later, "data": {}},
                {"kind": "reopened", "at": later, "data": {"previous": None, "reason": "x"}},
            ],
            {"status": "open", "closed_at": None, "outcome": None, "acknowledged_at": None},
        ),
        (
            [
                created,
                {"kind": "clarification", "at": at, "data": {}},
                {"kind": "clarified", "at": later, "data": {}},
            ],
            {"status": "open"},
        ),
    ]
    for events, expected in cases:
        said = replay(events)
        assert {k: said[k] for k in expected} == expected, events


# ---- the previous release -----------------------------------------------------------------


async def test_the_previous_release_gets_its_chain_at_upgrade(tmp_path: Path) -> None:
    db = await Database.open(load(tmp_path), writer=True)
    try:
        at_upgrade = await load_records(db, POLICY)
        verdict = verify(at_upgrade)
        assert verdict.ok, verdict.problems[:5]
        assert verdict.events == 109
        clock = FakeClock(T0 + timedelta(days=3))
        svc = Services(db, clock, config())
        await script(svc, clock)
        now = await load_records(db, POLICY)
    finally:
        await db.close()
    head = verdict.head
    assert head is not None
    later = verify(now, previous=at_upgrade, anchors=[head])
    assert later.ok, later.problems[:5]
    assert later.events > 109


# ---- the command line --------------------------------------------------------------------


def run_verify(
    *args: str, command: tuple[str, ...] = ("-m", "bot", "verify"), cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`python -m bot verify ARGS` (or another `command` of this interpreter) as a user runs
    it: no token, no database, no LIAISON_* variable."""
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},  # no token, no database: nothing else needed
        timeout=120,
    )


async def test_verify_on_the_command_line(exported: list[dict[str, Any]], tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(exported), "utf-8")
    head = events_of(exported)[-1]
    result = await asyncio.to_thread(
        run_verify, str(good), "--previous", str(good), "--anchor", f"{head['seq']}:{head['hash']}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 3 tickets")
    forged = copy.deepcopy(exported)
    find(forged, "note")["detail"] = "nothing to see"
    bad.write_text(json.dumps(forged), "utf-8")
    result = await asyncio.to_thread(run_verify, str(bad))
    assert result.returncode == 1
    assert "the event's hash does not match its content" in result.stdout
    result = await asyncio.to_thread(run_verify, str(good), "--anchor", "nonsense")
    assert result.returncode == 2 and "SEQ:HASH" in result.stderr


def test_sha256_of_canonical_json() -> None:
    assert sha256({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_the_readme_example_hash() -> None:
    import hashlib
    import re

    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Proof", 1)[1].split("\n## ", 1)[0]
    line = next(x.strip() for x in section.splitlines() if x.strip().startswith('{"actor_id"'))
    [stated] = re.findall(r"giving `hash` = `([0-9a-f]{64})`", section)
    assert hashlib.sha256(line.encode("utf-8")).hexdigest() == stated
    obj = json.loads(line)
    ticket = obj.pop("ticket")
    from bot.domain.proof import event_hash

    assert event_hash(ticket=ticket, **obj) == stated
    assert f"`{stated[:8]}`" in section
