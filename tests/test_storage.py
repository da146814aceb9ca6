"""The storage connection: statements on aiosqlite's thread, a busy database waited for there."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from storage import db as storage_db
from storage import repository as repo
from storage.db import Database, StorageError


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
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 200)
    database = await Database.open(tmp_path / "t.db", writer=True)
    other = locker(tmp_path / "t.db")
    try:
        with pytest.raises(StorageError, match="locked") as failed:
            async with database.transaction() as conn:
                await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
        assert failed.value.busy
        assert isinstance(failed.value.__cause__, sqlite3.OperationalError)
        other.rollback()
        async with database.transaction() as conn:  # free again: writes go through
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
    finally:
        other.close()
        await database.close()


async def test_statements_run_off_the_event_loop(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    seen: list[str] = []
    loop_thread = threading.current_thread().name
    await database.conn.raw.create_function(
        "where_am_i", 0, lambda: seen.append(threading.current_thread().name) or 1
    )
    try:
        async with database.read() as conn:
            rows = await conn.execute_fetchall("SELECT where_am_i()")
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', where_am_i())")
        assert [r[0] for r in rows] == [1]
        assert len(seen) == 2
        assert loop_thread not in seen
    finally:
        await database.close()


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db")
    try:
        async with database.read() as conn:
            with pytest.raises(StorageError, match="no such table") as failed:
                await conn.execute("SELECT * FROM nowhere")
        assert isinstance(failed.value.__cause__, sqlite3.OperationalError)
        assert not failed.value.busy
    finally:
        await database.close()


async def test_a_cancelled_long_read_leaves_the_connection_usable(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    await database.conn.raw.create_function(
        "started", 0, lambda: loop.call_soon_threadsafe(started.set)
    )
    long = (
        "WITH RECURSIVE n(i) AS (SELECT started() UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 300000) SELECT COUNT(*) FROM n"
    )

    async def read_long() -> None:
        async with database.read() as conn:
            await conn.execute_fetchall(long)

    reader = asyncio.create_task(read_long())
    await started.wait()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    # the read finishes on aiosqlite's thread; what comes next runs after it
    async with asyncio.timeout(10), database.transaction() as conn:
        await conn.execute("INSERT INTO meta(key, value) VALUES ('after', 'ok')")
    async with database.read() as conn:
        assert not conn.in_transaction
        rows = await conn.execute_fetchall("SELECT value FROM meta WHERE key = 'after'")
    assert [r[0] for r in rows] == ["ok"]
    await database.close()


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_open(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    other = locker(tmp_path / "t.db")
    try:

        async def write() -> None:
            async with database.transaction() as conn:
                await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'cancelled')")

        writer = asyncio.create_task(write())
        await asyncio.sleep(0.2)  # its BEGIN waits on aiosqlite's thread (busy_timeout)
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        other.rollback()  # the BEGIN goes through now, and the ROLLBACK queued after it
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'next')")
        async with database.read() as conn:
            assert not conn.in_transaction
            rows = await conn.execute_fetchall("SELECT value FROM meta WHERE key = 'k'")
        assert [r[0] for r in rows] == ["next"]
    finally:
        other.close()
        await database.close()


async def test_the_update_task_nests_and_other_tasks_wait(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    order: list[str] = []

    async def other_task() -> None:
        async with database.transaction() as conn:
            order.append("other")
            await conn.execute("INSERT INTO meta(key, value) VALUES ('other', 'x')")

    try:
        async with database.update_transaction(7) as outer:
            async with database.transaction() as conn:  # part of the update, not a deadlock
                await conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
            waiting = asyncio.create_task(other_task())
            await asyncio.sleep(0.05)
            async with database.read() as conn:  # shares the open transaction
                rows = await conn.execute_fetchall("SELECT key FROM meta ORDER BY key")
            assert [r[0] for r in rows] == ["a"]
            assert outer.in_transaction
            order.append("update")
        await waiting
        assert order == ["update", "other"]
        async with database.read() as conn:
            rows = await conn.execute_fetchall("SELECT key, value FROM meta ORDER BY key")
        assert [tuple(r) for r in rows] == [("a", "1"), ("last_update_id", "7"), ("other", "x")]
    finally:
        await database.close()


async def test_a_failing_write_fails_the_whole_update(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    try:

        async def handle() -> None:
            async with database.update_transaction(8):
                async with database.transaction() as conn:
                    await conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
                async with database.transaction() as conn:
                    await conn.execute("INSERT INTO meta(key, value) VALUES ('b', '2')")
                    raise ValueError("half an update")

        with pytest.raises(ValueError, match="half"):
            await handle()
        async with database.read() as conn:
            assert await conn.execute_fetchall("SELECT key FROM meta") == []
    finally:
        await database.close()


async def test_a_plain_transaction_marks_no_update(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)
    try:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
        async with database.read() as conn:
            rows = await conn.execute_fetchall("SELECT key FROM meta")
        assert [r[0] for r in rows] == ["k"]
    finally:
        await database.close()


async def test_an_update_whose_transaction_sqlite_rolled_back_is_not_marked(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "t.db", writer=True)

    async def handle() -> None:
        async with database.update_transaction(9) as conn:
            await conn.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
            await conn.execute("ROLLBACK")  # as SQLite does itself after SQLITE_FULL
            async with database.transaction():  # never a write in autocommit
                pytest.fail("a write joined a rolled-back transaction")

    try:
        with pytest.raises(StorageError, match="rolled back"):
            await handle()
        async with database.read() as conn:
            assert not conn.in_transaction
            assert await conn.execute_fetchall("SELECT key FROM meta") == []
    finally:
        await database.close()


async def test_opening_what_is_no_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"not a database, just text" * 100)
    with pytest.raises(StorageError) as failed:
        await Database.open(path, writer=True)
    assert isinstance(failed.value.__cause__, sqlite3.DatabaseError)


async def test_a_new_link_finds_the_closed_ticket_of_the_same_content_by_index(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "t.db")
    statements: list[str] = []
    try:
        async with database.read() as conn:
            await conn.raw.set_trace_callback(statements.append)
            assert await repo.find_latest_by_key(conn, "name/1") is None
            await conn.raw.set_trace_callback(None)
            [sql] = statements
            plan = await conn.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}")
        details = [str(r[3]) for r in plan]
        assert any("ix_tickets_link_key" in d for d in details), details
        assert not any(d.startswith("SCAN tickets") for d in details), details
    finally:
        await database.close()
