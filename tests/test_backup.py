"""`liaison-bot backup PATH`: a checked, consistent copy while the bot runs and writes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from tests.e2e.harness import RINA, running_bot

ROOT = Path(__file__).resolve().parents[1]


async def backup(database: Path, target: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    env.update({"LIAISON_DATABASE": str(database), "PYTHONPATH": str(ROOT)})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "backup",
        str(target),
        env=env,
        cwd=target.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_backup_while_the_bot_writes(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        stop = asyncio.Event()

        async def keep_reporting() -> int:
            n = 0
            while not stop.is_set():
                n += 1
                msg = w.say(RINA, f"t.me/FakeNews/{n}")
                await w.reply_to(msg["message_id"])
            return n

        writer = asyncio.create_task(keep_reporting())
        await w.wait(lambda: len(w.sent()) >= 3)
        target = tmp_path / "copy.db"
        code, out, err = await backup(w.settings.database, target)
        stop.set()
        reported = await writer
        assert (code, err) == (0, "")
        assert out == f"backup done: {target}\n"
        with sqlite3.connect(target) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            [(tickets,)] = copy.execute("SELECT COUNT(*) FROM tickets")
            [(events,)] = copy.execute("SELECT COUNT(*) FROM events WHERE kind = 'created'")
        # a consistent instant: some of the tickets, each with its first event
        assert 3 <= tickets <= reported
        assert events == tickets
        assert not (tmp_path / "copy.db.partial").exists()


def chained(path: Path, hashes: list[tuple[int, str, str]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, seq INTEGER, prev, hash)")
        conn.executemany("INSERT INTO events(seq, prev, hash) VALUES (?, ?, ?)", hashes)


async def test_backup_checks_the_chain_when_events_carry_one(tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    chained(good, [(1, "0" * 8, "a1"), (2, "a1", "b2"), (3, "b2", "c3")])
    assert (await backup(good, tmp_path / "good-copy.db"))[0] == 0
    bad = tmp_path / "bad.db"
    chained(bad, [(1, "0" * 8, "a1"), (2, "a1", "b2"), (3, "XX", "c3")])
    code, out, err = await backup(bad, tmp_path / "bad-copy.db")
    assert (code, out) == (1, "")
    assert err == (
        "liaison-bot: backup failed: chain broken at event seq 3: "
        "prev does not match the hash before it\n"
    )
    assert not (tmp_path / "bad-copy.db").exists()
    assert not (tmp_path / "bad-copy.db.partial").exists()


async def test_backup_of_a_missing_database_fails_in_one_line(tmp_path: Path) -> None:
    code, out, err = await backup(tmp_path / "none.db", tmp_path / "copy.db")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "database not found" in err
