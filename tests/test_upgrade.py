"""A database made by the previous release upgrades in place with nothing lost.

The fixture (tests/fixtures/previous_release.sql) was written by the previous release's own
code: every event kind and sentence form it wrote, every outbox kind and notice key, in
every delivery state. Opened by this release it is migrated once; after that every row it
held is still there, every event has its typed fields (and they say what its sentence
said), every queued notification reads as a typed notice and renders.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.domain.events import Escalated, Escalation, EventKind
from bot.domain.stats import Escalations
from bot.export import load_records
from bot.figures import load_stats
from bot.notices import Card, ExportFile, Leave, Refresh, ReportFiles, from_payload
from bot.rendering import Renderer
from bot.services import Services
from storage import outbox
from storage import repository as repo
from storage.db import MIGRATIONS, Database
from tests.test_previous_release_fixture import SCHEMA_VERSION, load
from tests.test_services import POLICY, config

AFTER = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)  # just after the fixture's story ends
TABLES = ("tickets", "reports", "events", "evidence", "overrides", "people", "outbox", "meta")


def rows(path: Path, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    raw = sqlite3.connect(path)
    try:
        return raw.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchall()
    finally:
        raw.close()


def version(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])
    finally:
        raw.close()


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    path = load(tmp_path)
    assert version(path) == SCHEMA_VERSION
    return path


@pytest.fixture
async def upgraded(previous: Path) -> AsyncIterator[Database]:
    db = await Database.open(previous, writer=True)
    yield db
    await db.close()


async def test_upgrade_keeps_every_row(previous: Path) -> None:
    event_columns = "id, ticket_id, at, actor_id, kind, detail"
    outbox_columns = "id, chat_id, created_at, not_before, attempts, state, sent_at, message_id"
    before = {table: rows(previous, table) for table in TABLES if table not in ("events",)}
    events_before = rows(previous, "events", event_columns)
    outbox_before = rows(previous, "outbox", outbox_columns)
    db = await Database.open(previous, writer=True)
    await db.close()
    assert version(previous) == len(MIGRATIONS)
    for table in ("reports", "evidence", "overrides", "people", "meta"):
        assert rows(previous, table) == before[table], table
    # every ticket row as it was, plus its category: the default one (their events name none)
    tickets_after = rows(previous, "tickets")
    assert [row[:-1] for row in tickets_after] == before["tickets"]
    assert {row[-1] for row in tickets_after} == {"other"}
    assert rows(previous, "events", event_columns) == events_before
    assert rows(previous, "outbox", outbox_columns) == outbox_before
    # opening again migrates nothing more
    migrated = {table: rows(previous, table) for table in TABLES}
    db = await Database.open(previous, writer=True)
    await db.close()
    assert {table: rows(previous, table) for table in TABLES} == migrated


async def test_every_event_gets_the_fields_its_sentence_stood_for(upgraded: Database) -> None:
    async with upgraded.read() as conn:
        tickets = await repo.list_tickets_between(conn, None)
        histories = await repo.list_events_for(conn, [t.id for t in tickets])
    events = [e for h in histories.values() for e in h]
    assert len(events) == 109
    for e in events:
        assert e.fact.describe() == e.detail, (e.id, e.kind)
    kinds = Counter(e.kind for e in events)
    # edits, categories and anchors are new since that release
    new = {EventKind.EDITED, EventKind.CATEGORIZED, EventKind.ANCHORED}
    assert set(kinds) == set(EventKind) - new
    reasons = Counter(e.fact.reason for e in events if isinstance(e.fact, Escalated))
    assert reasons == {
        Escalation.ACK_REMINDER: 8,
        Escalation.OVERDUE: 5,
        Escalation.OVERDUE_REPEAT: 12,
        Escalation.NOBODY_ON_CALL: 1,
        Escalation.UNREACHABLE: 1,
    }


async def test_stats_count_every_escalation_of_the_old_history(upgraded: Database) -> None:
    stats = await load_stats(upgraded, POLICY, config().zone, AFTER, 30)
    # the unreachable one was counted nowhere while the history was free text
    assert stats.escalations == Escalations(
        ack_reminder=8, overdue=5, overdue_repeat=12, nobody_on_call=1, unreachable=1
    )


async def test_export_after_upgrade_carries_typed_fields(upgraded: Database) -> None:
    records = await load_records(upgraded, POLICY)
    assert len(records) == 21
    events = [e for r in records for e in r["events"]]
    assert len(events) == 109
    chained = {"at", "actor_id", "kind", "detail", "data", "seq", "prev", "hash"}
    assert all(set(e) == chained for e in events)
    assert sorted(e["seq"] for e in events) == list(range(1, 110))  # chained at the upgrade
    banned = [e for e in events if e["detail"].startswith("banned: channel banned")]
    assert banned and all(e["data"]["banned_with"] for e in banned)


async def test_every_queued_notification_reads_and_renders(upgraded: Database) -> None:
    async with upgraded.read() as conn:
        items = await outbox.list_pending_outbox(conn, 10_000)
        every = await conn.execute_fetchall("SELECT kind, payload FROM outbox")
    assert len(every) == 209
    decoded = [from_payload(kind, json.loads(payload)) for kind, payload in every]
    assert len({type(n) for n in decoded}) == 31  # every notice kind the release queued
    assert len(items) == 8  # the README: pending rows by kind
    assert all(i.notice is not None for i in items)
    svc = Services(upgraded, FakeClock(AFTER), config())
    renderer = Renderer(svc)
    for item in items:
        notice = item.notice
        assert notice is not None
        if isinstance(notice, Card):
            assert await renderer.card(item.chat_id, notice.tickets, notice.dup)
        elif not isinstance(notice, Refresh | ReportFiles | ExportFile | Leave):
            rendered = await renderer.render(notice)
            assert rendered and all(r.text for r in rendered), notice
