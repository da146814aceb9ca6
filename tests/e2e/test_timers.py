"""Shift hand-off, daily digest and the privacy-mode warning, through the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import LiaisonApp
from bot.clock import SystemClock
from storage import repository as repo
from tests.e2e.harness import CHAT, RINA, make_roster, running_bot, started_sandbox


async def test_shift_change_posts_a_handoff_with_open_tickets(tmp_path: Path) -> None:
    now = SystemClock().now()
    # shifts of 3 s starting 2 s ago: a boundary comes within a few seconds
    start = (now - timedelta(seconds=2)).isoformat()
    async with running_bot(tmp_path, roster=make_roster(start=start, shift="3s")) as w:
        msg = w.say(RINA, "t.me/handoff_check/1")
        await w.reply_to(msg["message_id"])
        handoff = await w.text_containing("Shift change", within=8)
        assert "➜" in handoff.text
        assert "#1" in handoff.text
        names = ("Andi Wijaya", "Budi Santoso")
        assert all(name in handoff.text for name in names)


async def test_restart_within_the_shift_posts_no_second_handoff(tmp_path: Path) -> None:
    shift = timedelta(seconds=40)
    async with started_sandbox() as sandbox:
        # the first boundary comes 4 s from now, the next one 40 s later: after the restart
        now = SystemClock().now().replace(microsecond=0)
        boundary = now + timedelta(seconds=4)
        roster = make_roster(start=(boundary - shift).isoformat(), shift="40s")
        async with running_bot(tmp_path, roster=roster, sandbox=sandbox) as w:
            await w.text_containing("Shift change", within=15)
        async with running_bot(tmp_path, roster=roster, sandbox=sandbox) as w:
            # the hand-off job ran its catch-up at start once it is armed for the next boundary
            await w.wait(lambda: armed_at(w.app, "job_handoff") == boundary + shift)
            await w.settled()
            assert SystemClock().now() < boundary + shift  # still the same shift
            assert sum("Shift change" in m.text for m in w.sent()) == 1


def armed_at(app: LiaisonApp, name: str) -> datetime | None:
    """When the job queue will next run the named job (None: not armed)."""
    assert app.job_queue is not None
    return next((j.next_t for j in app.job_queue.jobs() if j.name == name), None)


@pytest.mark.timeout(100)
async def test_daily_digest_at_the_configured_minute(tmp_path: Path) -> None:
    zone = ZoneInfo("Asia/Jakarta")
    local = SystemClock().now().astimezone(zone)
    # the next whole minute, local time; the bot starts before it, so today's digest is due
    target = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if target.date() != local.date():
        target = local.replace(hour=0, minute=0, second=0, microsecond=0)  # pragma: no cover
    async with running_bot(tmp_path, digest_at=f"{target:%H:%M}") as w:
        msg = w.say(RINA, "t.me/digest_check/1")
        await w.reply_to(msg["message_id"])
        wait = (target - SystemClock().now().astimezone(zone)).total_seconds() + 5
        digest = await w.text_containing("Daily digest", within=max(5.0, wait))
        assert "1 open" in digest.text
        # it ends with the chain head, and that anchor joins the chain once delivered
        assert "Chain head: seq " in digest.text.splitlines()[-3]
        await w.settled()
        async with w.services.db.read() as conn:
            [anchor] = await repo.list_ticketless_events(conn)
        assert anchor["kind"] == "anchored"
        assert anchor["data"]["message_id"] == digest.message_id


async def test_privacy_mode_on_is_reported_in_the_chat(tmp_path: Path) -> None:
    async with (
        started_sandbox(can_read_all_group_messages=False) as sandbox,
        running_bot(tmp_path, sandbox=sandbox) as w,
    ):
        warning = await w.text_containing("privacy mode", chat=CHAT)
        assert "/setprivacy" in warning.text


async def test_no_privacy_warning_when_the_bot_is_admin(tmp_path: Path) -> None:
    async with started_sandbox(can_read_all_group_messages=False) as sandbox:
        sandbox.set_admin(CHAT, sandbox.bot_user["id"])
        async with running_bot(tmp_path, sandbox=sandbox) as w:
            msg = w.say(RINA, "/open")
            await w.reply_to(msg["message_id"])
            await w.settled()
            assert not any("privacy" in m.text for m in w.sent())
