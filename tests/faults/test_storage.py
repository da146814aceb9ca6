"""Storage faults under the command-line bot: a locked, read-only or full database.

Each time: a clear error, then a retry (the update is stored once the fault is gone) or a
clean stop (one log line, a non-zero exit code, no traceback); never an update confirmed
to Telegram that is not stored; never a damaged database (``PRAGMA integrity_check``).

Simulations that work without privileges:
- locked: another process holds ``BEGIN EXCLUSIVE`` on the file for longer than the bot's
  busy timeout (5 s);
- read-only: the file or its directory loses its write bits (as root, the bot runs without
  CAP_DAC_OVERRIDE so that the mode binds it too);
- disk full: the bot's RLIMIT_FSIZE is lowered to the size its files have now, then raised
  again (``prlimit`` on a running process). Writes past the limit fail with EFBIG, which
  SQLite reports as a disk I/O error. (``PRAGMA max_page_count`` would not do: it holds
  for the connection that sets it, not for the bot's.)
"""

from __future__ import annotations

import os
import resource
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.sandbox.server import Sandbox
from tests.e2e.harness import ANDI, CHAT, RINA, started_sandbox
from tests.faults.procs import (
    TRACEBACK,
    BotProcess,
    bot_process,
    card_tickets,
    db_connect,
    integrity,
    new_sandbox,
    query,
)

STORE_FAILED = r"database write failed for update (\d+)"


def links(bot: BotProcess) -> list[str]:
    return [r[0] for r in query(bot.database, "SELECT link FROM tickets ORDER BY id")]


def report(sandbox: Sandbox, n: int) -> int:
    """Rina reports post n; returns the update id."""
    sandbox.send_text(CHAT, RINA, f"Propaganda https://t.me/FakeNews/{n}")
    return sandbox.confirmed_offset + sandbox.pending_updates()


async def first_ticket(sandbox: Sandbox, bot: BotProcess) -> None:
    """Start, report one link, wait until it is stored and its card delivered."""
    await bot.start()
    report(sandbox, 1)
    await bot.wait_for(
        lambda: (
            not query(bot.database, "SELECT 1 FROM outbox WHERE state != 'sent'")
            and links(bot)
            and sandbox.pending_updates() == 0
        ),
        20,
        "the first ticket stored, confirmed and announced",
    )


def expected(n: int) -> list[str]:
    return [f"https://t.me/FakeNews/{i}" for i in range(1, n + 1)]


@pytest.mark.timeout(90)
async def test_a_locked_database_delays_reports_but_loses_none(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        async with bot_process(sandbox, tmp_path / "bot") as bot:
            await first_ticket(sandbox, bot)
            with db_connect(bot.database, readonly=False) as lock:
                lock.execute("BEGIN EXCLUSIVE")
                confirmed = sandbox.confirmed_offset
                first = report(sandbox, 2)
                report(sandbox, 3)
                await bot.wait_for(lambda: bot.log_matches(STORE_FAILED), 20, "a failed write")
                assert "database is locked" in bot.log()
                assert sandbox.confirmed_offset == confirmed <= first, "confirmed, not stored"
                assert sandbox.pending_updates() == 2
                lock.execute("ROLLBACK")
            await bot.wait_for(
                lambda: links(bot) == expected(3) and sandbox.pending_updates() == 0,
                30,
                "both reports stored once the lock is gone",
            )
            assert await bot.stop() == 0
        assert integrity(bot.database) == "ok"
        assert TRACEBACK not in bot.log(), bot.log()


@pytest.mark.timeout(90)
async def test_a_read_only_database_file_stops_the_bot_cleanly(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        async with bot_process(sandbox, tmp_path / "bot", honour_permissions=True) as bot:
            await first_ticket(sandbox, bot)
            assert await bot.stop() == 0
            confirmed = sandbox.confirmed_offset
            first = report(sandbox, 2)
            bot.database.chmod(0o444)
            try:
                await bot.start(wait=False)
                assert await bot.wait_exit(30) == 3
                assert sandbox.confirmed_offset == confirmed <= first
                run = bot.log().split("----- run 2")[1]
                assert "readonly database" in run and TRACEBACK not in run, run
                code, out, err = await bot.cli("export")  # reading needs no write access
                assert code == 0 and "https://t.me/FakeNews/1" in out, err
            finally:
                # SQLite gave the -wal and -shm files it made the database file's mode
                for path in bot.workdir.glob("liaison.db*"):
                    path.chmod(0o644)
            await bot.start()  # writable again: the report waiting at Telegram is stored
            await bot.wait_for(
                lambda: links(bot) == expected(2) and sandbox.pending_updates() == 0,
                20,
                "the report stored after the fix",
            )
            assert await bot.stop() == 0
        assert integrity(bot.database) == "ok"


@pytest.mark.timeout(90)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
async def test_a_read_only_directory_stops_the_bot_cleanly(tmp_path: Path, existing: bool) -> None:
    sandbox = new_sandbox()
    await sandbox.start()
    workdir = tmp_path / "bot"
    try:
        async with bot_process(sandbox, workdir, honour_permissions=True) as bot:
            if existing:  # stopped cleanly: no -wal or -shm file is left to write to
                await first_ticket(sandbox, bot)
                assert await bot.stop() == 0
            confirmed = sandbox.confirmed_offset
            first = report(sandbox, 2)
            workdir.chmod(0o555)
            try:
                await bot.start(wait=False)
                assert await bot.wait_exit(30) == 3
            finally:
                workdir.chmod(0o755)
            assert sandbox.confirmed_offset == confirmed <= first
            run = bot.log().split(f"----- run {bot.runs}")[1]
            assert "unusable" in run and TRACEBACK not in run, run
            assert "unable to open database file" in run or "readonly database" in run, run
            await bot.start()
            await bot.wait_for(
                lambda: links(bot) == (expected(2) if existing else ["https://t.me/FakeNews/2"]),
                20,
                "the report stored after the fix",
            )
            assert await bot.stop() == 0
        assert integrity(bot.database) == "ok"
    finally:
        await sandbox.stop()


@pytest.mark.timeout(60)
async def test_a_file_that_is_no_database_stops_the_bot_cleanly(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox, bot_process(sandbox, tmp_path / "bot") as bot:
        bot.database.write_bytes(b"this is not an SQLite database\n" * 200)
        first = report(sandbox, 1)
        await bot.start(wait=False)
        assert await bot.wait_exit(30) == 3  # not a hang: the connection is closed
        assert sandbox.confirmed_offset <= first
        assert "not a database" in bot.log() and TRACEBACK not in bot.log(), bot.log()


def disk_full(bot: BotProcess) -> None:
    """No file of the bot may grow any more (RLIMIT_FSIZE at today's largest size)."""
    largest = max(p.stat().st_size for p in bot.workdir.iterdir() if p.is_file())
    resource.prlimit(bot.pid, resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))


def disk_freed(bot: BotProcess) -> None:
    infinity = resource.RLIM_INFINITY
    resource.prlimit(bot.pid, resource.RLIMIT_FSIZE, (infinity, infinity))


@pytest.mark.timeout(90)
async def test_a_full_disk_is_retried_and_nothing_is_confirmed_meanwhile(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        async with bot_process(sandbox, tmp_path / "bot") as bot:
            await first_ticket(sandbox, bot)
            confirmed = sandbox.confirmed_offset
            disk_full(bot)
            first = report(sandbox, 2)
            report(sandbox, 3)
            await bot.wait_for(lambda: bot.log_matches(STORE_FAILED), 20, "a failed write")
            await bot.wait_for(lambda: len(bot.log_matches(STORE_FAILED)) >= 3, 20, "two retries")
            assert sandbox.confirmed_offset == confirmed <= first, "confirmed, not stored"
            assert links(bot) == expected(1)
            assert integrity(bot.database) == "ok"  # even while full
            disk_freed(bot)
            await bot.wait_for(
                lambda: links(bot) == expected(3) and sandbox.pending_updates() == 0,
                40,
                "the reports stored once there is room",
            )
            assert await bot.stop() == 0
        assert integrity(bot.database) == "ok"
        failures = bot.log_matches(STORE_FAILED)
        assert all("disk I/O error" in line or "full" in line for line in failures), failures
        print(f"disk full: {len(failures)} failed attempts, then stored")


@pytest.mark.timeout(90)
async def test_a_button_is_answered_only_once_its_effect_is_stored(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        async with bot_process(sandbox, tmp_path / "bot") as bot:
            await first_ticket(sandbox, bot)
            [card] = [m for m in sandbox.messages(CHAT) if m.buttons()]
            acknowledged = "SELECT 1 FROM tickets WHERE acknowledged_at IS NOT NULL"
            disk_full(bot)  # the press is handled, then its commit fails
            sandbox.press_button(CHAT, ANDI, card.message_id, "ack:1")
            await bot.wait_for(lambda: len(bot.log_matches(STORE_FAILED)) >= 2, 20, "retries")
            # no toast saying "acknowledged" while the acknowledgement is not stored
            assert sandbox.call_count("answerCallbackQuery") == 0
            assert not query(bot.database, acknowledged)
            disk_freed(bot)
            await bot.wait_for(
                lambda: (
                    query(bot.database, acknowledged)
                    and sandbox.call_count("answerCallbackQuery") > 0
                ),
                30,
                "the press stored, then answered",
            )
            await bot.wait_for(lambda: sandbox.pending_updates() == 0, 10, "confirmed")
            assert sandbox.call_count("answerCallbackQuery") == 1  # the retries answer once
            assert await bot.stop() == 0
        assert integrity(bot.database) == "ok"


@pytest.mark.timeout(90)
async def test_a_message_sent_while_the_disk_is_full_is_not_sent_again(tmp_path: Path) -> None:
    async with started_sandbox() as sandbox:
        async with bot_process(sandbox, tmp_path / "bot") as bot:
            await first_ticket(sandbox, bot)
            sandbox.fail_next("sendMessage", 502)  # the card of #2 goes out on the retry
            report(sandbox, 2)
            await bot.wait_for(
                lambda: sandbox.call_count("sendMessage") >= 2 and links(bot) == expected(2),
                20,
                "the first attempt at the card of #2",
            )
            disk_full(bot)  # the retry succeeds at Telegram; recording it fails
            await sandbox.wait_for(lambda: len(sandbox.messages(CHAT)) >= 2, 20)
            await bot.wait_for(lambda: bot.log_matches("disk I/O error"), 20, "a failed write")
            disk_freed(bot)
            report(sandbox, 3)  # wakes the sender
            await bot.wait_for(
                lambda: (
                    not query(bot.database, "SELECT 1 FROM outbox WHERE state != 'sent'")
                    and links(bot) == expected(3)
                ),
                30,
                "everything delivered",
            )
            assert await bot.stop() == 0
        shown = Counter(t for m in sandbox.messages(CHAT) for t in card_tickets(m.text))
        assert shown[2] == 1, [m.text for m in sandbox.messages(CHAT)]  # not on a second card
        assert "Task exception was never retrieved" not in bot.log()


def test_the_lock_helper_really_locks(tmp_path: Path) -> None:
    """BEGIN EXCLUSIVE from one connection keeps another's writes out (the premise above)."""
    path = tmp_path / "x.db"
    with db_connect(path, readonly=False) as first:
        first.execute("PRAGMA journal_mode=WAL")
        first.execute("CREATE TABLE t (a)")
        first.execute("BEGIN EXCLUSIVE")
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        first.execute("ROLLBACK")
    assert os.path.exists(path)
