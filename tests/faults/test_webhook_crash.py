"""SIGKILL the bot (a real process, webhook mode) during a burst of reports posted to its
webhook; restart it each time; at the end every report is one ticket: 0 lost, 0 doubled,
nothing confirmed to Telegram (a 200) that is not stored.

One short trial runs in every ``make test``; five long ones under LIAISON_FAULTS=1.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.harness import CHAT, RINA, webhook_settings
from tests.faults.procs import TRACEBACK, bot_process, integrity, new_sandbox, query


def webhook_env() -> dict[str, str]:
    hook = webhook_settings()
    return {f"LIAISON_{k.upper()}": str(v) for k, v in hook.items()}


async def trial(tmp_path: Path, seed: int, *, count: int, kills: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible instants, not security
    sandbox = new_sandbox()
    sandbox.webhook_backoff = (0.02, 0.2)
    await sandbox.start()
    try:
        async with bot_process(
            sandbox, tmp_path / "bot", env=webhook_env(), fast_sender=True
        ) as bot:
            await bot.start()
            kill_at = sorted(rng.sample(range(count // 10, count), kills))
            expected = [f"https://t.me/FakeNews/{n}" for n in range(1, count + 1)]
            for n in range(1, count + 1):
                sandbox.send_text(CHAT, RINA, f"Propaganda {expected[n - 1]}")
                if kill_at and n == kill_at[0]:
                    kill_at.pop(0)
                    # wait until the bot is taking deliveries of this burst, then kill it
                    target = sandbox.confirmed_offset + rng.randint(1, 30)
                    await sandbox.wait_for(
                        lambda t=target: (
                            sandbox.confirmed_offset > t or not sandbox.pending_updates()
                        ),
                        timeout=30,
                    )
                    await bot.kill()
                    await bot.start()
                elif n % 50 == 0:
                    await asyncio.sleep(0)  # let the deliverer run alongside the burst
            await bot.wait_for(
                lambda: sandbox.pending_updates() == 0, 120, "every update delivered"
            )
            links = Counter(r[0] for r in query(bot.database, "SELECT link FROM tickets"))
            lost = [link for link in expected if link not in links]
            doubled = [link for link, k in links.items() if k > 1]
            assert (len(lost), len(doubled)) == (0, 0), (lost[:5], doubled[:5])
            assert integrity(bot.database) == "ok"
            assert TRACEBACK not in bot.log()
            assert bot.runs == kills + 1
    finally:
        await sandbox.stop()


@pytest.mark.timeout(60)
async def test_sigkill_during_a_webhook_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    await trial(tmp_path, 1, count=1000, kills=1)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
async def test_sigkill_during_a_1000_report_webhook_burst(tmp_path: Path, seed: int) -> None:
    await trial(tmp_path, seed, count=1000, kills=3)
