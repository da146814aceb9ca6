"""Health and metrics through the sandbox: /healthz turns 503 with the reason, /metrics
parses and agrees with the export."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import FakeClock
from tests.e2e.harness import ANDI, RINA, World, running_bot

LISTEN = "127.0.0.1:0"  # a free port: tests run side by side


async def get(w: World, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(w.http_url + path) as answer:
        return answer.status, await answer.text()


async def health_until(
    w: World, check: Callable[[int, str], bool], within: float = 10.0
) -> tuple[int, str]:
    """Ask /healthz until its answer passes `check` (bounded)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        status, text = await get(w, "/healthz")
        if check(status, text) or loop.time() > end:
            return status, text
        await asyncio.sleep(0.05)


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, []).append((s.labels, s.value))
    return found


def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))


async def test_healthy_bot_answers_200(tmp_path: Path) -> None:
    async with running_bot(tmp_path, http_listen=LISTEN) as w:
        assert await get(w, "/healthz") == (200, "ok\n")


async def test_get_updates_failing_for_two_periods_is_unhealthy(tmp_path: Path) -> None:
    fake = clock()
    async with running_bot(tmp_path, clock=fake, http_listen=LISTEN) as w:
        assert (await get(w, "/healthz"))[0] == 200
        calls = w.sandbox.call_count("getUpdates")
        w.sandbox.fail_next("getUpdates", 502, count=10_000)
        # the long poll in flight ends; the next one fails
        await w.wait(lambda: w.sandbox.call_count("getUpdates") >= calls + 2)
        fake.advance(timedelta(seconds=3))  # 1.5 poll periods (2 s each): still fine
        assert (await get(w, "/healthz"))[0] == 200
        fake.advance(timedelta(seconds=2))
        status, text = await get(w, "/healthz")
        assert status == 503
        assert text.splitlines() == ["no successful getUpdates for 5s (2 poll periods: 4s)"]
        w.sandbox._fail_rules.clear()
        status, text = await health_until(w, lambda s, _: s == 200)
        assert (status, text) == (200, "ok\n")
        _, metrics = await get(w, "/metrics")
        errors = samples(metrics)["liaison_telegram_errors_total"]
        assert any(
            labels == {"code": "502", "method": "getupdates"} and value >= 1
            for labels, value in errors
        )


async def test_read_only_database_is_unhealthy(tmp_path: Path) -> None:
    async with running_bot(tmp_path, http_listen=LISTEN) as w:
        db = w.services.db
        async with db.read() as conn:
            # the bot's own connection now refuses every write, as a read-only file would
            await conn.execute("PRAGMA query_only=1")
        status, text = await get(w, "/healthz")
        assert status == 503
        [reason] = text.splitlines()
        assert reason.startswith("database not writable:") and "readonly" in reason
        async with db.read() as conn:
            await conn.execute("PRAGMA query_only=0")
        assert await get(w, "/healthz") == (200, "ok\n")


async def test_stuck_notification_is_unhealthy(tmp_path: Path) -> None:
    fake = clock()
    async with running_bot(tmp_path, clock=fake, http_listen=LISTEN) as w:
        w.sandbox.fail_next("sendMessage", 500, count=10_000)
        w.say(RINA, "t.me/FakeNews/1")
        await w.wait(lambda: w.sandbox.call_count("sendMessage") >= 1)
        assert (await get(w, "/healthz"))[0] == 200  # undelivered, but not for long
        fake.advance(timedelta(minutes=6))
        status, text = await health_until(
            w, lambda _, t: "notification" in t and "getUpdates" not in t
        )
        assert status == 503
        assert text.splitlines() == ["a notification undelivered for 360s (over 5 min; 1 pending)"]
        w.sandbox._fail_rules.clear()
        fake.advance(timedelta(minutes=1))  # past the retry's not-before
        w.app.bot_data.sender_.wake()  # type: ignore[union-attr]
        await w.text_containing("FakeNews")
        status, _ = await health_until(w, lambda s, _: s == 200)
        assert status == 200


async def test_metrics_parse_and_match_the_export(tmp_path: Path) -> None:
    async with running_bot(tmp_path, http_listen=LISTEN) as w:
        for n in (1, 2, 3):
            msg = w.say(RINA, f"t.me/FakeNews/{n}")
            await w.reply_to(msg["message_id"])
        ack = w.say(ANDI, "/ack 2")
        await w.reply_to(ack["message_id"])
        await w.settled()
        status, text = await get(w, "/metrics")
        assert status == 200
        found = samples(text)
        export = await w.export()
        by_status = Counter(r["status"] for r in export)
        assert by_status == {"open": 2, "acknowledged": 1}
        tickets = {labels["status"]: value for labels, value in found["liaison_tickets"]}
        assert {k: v for k, v in tickets.items() if v} == by_status
        assert all(labels["category"] == "other" for labels, _ in found["liaison_tickets"])
        assert found["liaison_tickets_overdue"] == [({}, 0.0)]
        assert found["liaison_outbox_backlog"] == [({}, 0.0)]
        assert found["liaison_outbox_oldest_age_seconds"] == [({}, 0.0)]
        [(_, handled)] = found["liaison_updates_handled_total"]
        assert handled >= 4
        [(_, last)] = found["liaison_telegram_last_success_timestamp_seconds"]
        assert last > 0
        assert "liaison_escalation_lateness_seconds_bucket" in found
