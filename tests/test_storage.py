"""The storage connection: statements inline, a busy database waited for without blocking."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from storage import db as storage_db
from storage import repository as repo
from storage.db import Database


def locker(path: Path) -> sqlite3.Connection:
    """Another process's writer: holds the write lock until rolled back."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    return other


async def test_a_busy_database_is_waited_for_while_the_loop_keeps_running(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    other = locker(tmp_path / "t.db")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    running = asyncio.create_task(ticker())
    asyncio.get_running_loop().call_later(0.3, other.rollback)
    try:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
        # SQLite's own busy wait would have frozen the loop for the 0.3 s
        assert ticks >= 10
        async with database.read() as conn:
            rows = await conn.execute_fetchall("SELECT value FROM meta WHERE key = 'k'")
        assert [r[0] for r in rows] == ["v"]
    finally:
        running.cancel()
        other.close()
        await database.close()


async def test_a_database_busy_for_too_long_fails_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_db, "BUSY_WAIT", 0.2)
    database = await Database.open(tmp_path / "t.db", writer=True)
    other = locker(tmp_path / "t.db")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with database.transaction() as conn:
                await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
        other.rollback()
        async with database.transaction() as conn:  # free again: writes go through
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
    finally:
        other.close()
        await database.close()


async def test_long_reads_run_off_the_event_loop(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db")
    seen: list[str] = []
    loop_thread = threading.current_thread().name
    database.conn.raw.create_function(
        "where_am_i", 0, lambda: seen.append(threading.current_thread().name) or 1
    )
    try:
        async with database.read() as conn:
            inline = await conn.execute_fetchall("SELECT where_am_i()")
            offloaded = await conn.execute_fetchall("SELECT where_am_i()", offload=True)
        assert [r[0] for r in inline] == [r[0] for r in offloaded] == [1]
        assert seen[0] == loop_thread
        assert seen[1] != loop_thread
    finally:
        await database.close()


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db")
    try:
        async with database.read() as conn:
            with pytest.raises(sqlite3.OperationalError, match="no such table"):
                await conn.execute("SELECT * FROM nowhere")
    finally:
        await database.close()


async def test_a_cancelled_long_read_lets_go_of_the_connection_before_the_lock(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
    )

    async def read_forever() -> None:
        async with database.read() as conn:
            await conn.execute_fetchall(endless, offload=True)

    reader = asyncio.create_task(read_forever())
    await asyncio.sleep(0.2)
    reader.cancel()
    async with asyncio.timeout(5):  # interrupted, not left running on its thread
        with pytest.raises(asyncio.CancelledError):
            await reader
    async with database.transaction() as conn:
        await conn.execute("INSERT INTO meta(key, value) VALUES ('after', 'ok')")
    await database.close()


async def test_a_new_link_finds_the_closed_ticket_of_the_same_content_by_index(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "t.db")
    statements: list[str] = []
    try:
        async with database.read() as conn:
            conn.raw.set_trace_callback(statements.append)
            assert await repo.find_last_closed_by_key(conn, "name/1") is None
            conn.raw.set_trace_callback(None)
            [sql] = statements
            plan = await conn.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}")
        details = [str(r[3]) for r in plan]
        assert any("ix_tickets_link_key" in d for d in details), details
        assert not any(d.startswith("SCAN tickets") for d in details), details
    finally:
        await database.close()
