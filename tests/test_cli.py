"""The command line as an operator meets it: one clear line for bad settings, check, export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.domain.links import normalise_link
from bot.domain.tickets import Outcome
from bot.services import Intake
from tests.e2e.harness import ANDI, CHAT, RINA, ROSTER
from tests.test_services import config

GOOD_ROSTER = (
    ROSTER.replace("{start}", "2026-11-23T08:00:00+07:00")
    .replace("{shift}", "8h")
    .replace("{order}", '["andi_mod", "budi_mod"]')
)


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_roster(tmp_path: Path, text: str = GOOD_ROSTER) -> str:
    path = tmp_path / "roster.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "LIAISON_BOT_TOKEN is required but not set"),
        ({"LIAISON_BOT_TOKEN": "1:x"}, "LIAISON_CHAT_ID is required but not set"),
        ({"LIAISON_BOT_TOKEN": "1:x", "LIAISON_CHAT_ID": "abc"}, "LIAISON_CHAT_ID"),
        (
            {"LIAISON_BOT_TOKEN": "1:x", "LIAISON_CHAT_ID": "-100", "LIAISON_ACK_DEADLINE": "15x"},
            "LIAISON_ACK_DEADLINE",
        ),
        (
            {"LIAISON_BOT_TOKEN": "1:x", "LIAISON_CHAT_ID": "-100", "LIAISON_LANGUAGE": "fr"},
            "LIAISON_LANGUAGE",
        ),
        (
            {
                "LIAISON_BOT_TOKEN": "1:x",
                "LIAISON_CHAT_ID": "-100",
                "LIAISON_TIMEZONE": "Mars/Base",
            },
            "LIAISON_TIMEZONE",
        ),
        (
            {"LIAISON_BOT_TOKEN": "1:x", "LIAISON_CHAT_ID": "-100", "LIAISON_DIGEST_AT": "8am"},
            "LIAISON_DIGEST_AT",
        ),
    ],
)
def test_bad_settings_stop_with_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_cli(tmp_path, "run", LIAISON_ROSTER=write_roster(tmp_path), **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_roster_names_the_line(tmp_path: Path) -> None:
    bad = GOOD_ROSTER.replace(
        'order = ["andi_mod", "budi_mod"]', 'order = ["andi_mod", "sari_lead"]'
    )
    result = run_cli(
        tmp_path,
        "check",
        LIAISON_BOT_TOKEN="1:x",
        LIAISON_CHAT_ID="-100",
        LIAISON_ROSTER=write_roster(tmp_path, bad),
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "roster line 26" in line and "no moderator role" in line


def test_check_prints_the_rotation(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "check",
        "--days",
        "1",
        LIAISON_BOT_TOKEN="1:x",
        LIAISON_CHAT_ID="-100",
        LIAISON_ROSTER=write_roster(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "roster ok: 3 people" in result.stdout
    assert "Andi Wijaya (@andi_mod" in result.stdout and "Budi Santoso (@budi_mod" in result.stdout


async def _fill(db_path: Path) -> None:
    from bot.services import Services
    from storage.db import Database

    db = await Database.open(db_path)
    try:
        svc = Services(db, SystemClock(), config())
        for n, link in enumerate(("t.me/hoax_id/1", "t.me/hoax_id/2", "t.me/+AbCdEf123456")):
            parsed = normalise_link(link)
            assert parsed is not None
            await svc.report(Intake(CHAT, 100 + n, RINA, [parsed], urgent=n == 1))
        await svc.acknowledge(ANDI, [1])
        await svc.close(ANDI, [1], Outcome.BANNED)
        await svc.reject(ANDI, 3, "not propaganda")
    finally:
        await db.close()


def test_export_json_and_csv(tmp_path: Path) -> None:
    db_path = tmp_path / "liaison.db"
    asyncio.run(_fill(db_path))
    result = run_cli(tmp_path, "export", LIAISON_DATABASE=str(db_path))
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == [1, 2, 3]
    first = records[0]
    for key in (
        "id",
        "link",
        "status",
        "urgent",
        "reporter_id",
        "assignee_id",
        "report_count",
        "created_at",
        "acknowledged_at",
        "closed_at",
        "deadline_at",
        "outcome",
        "reopened_from",
        "events",
    ):
        assert key in first
    assert first["link"] == "https://t.me/hoax_id/1"
    assert first["status"] == "removed" and first["outcome"] == "banned"
    assert first["created_at"].endswith("+00:00")
    # banned closed the channel's other open ticket too
    assert records[1]["status"] == "removed" and records[1]["urgent"] is True
    assert records[2]["status"] == "rejected"
    assert [e["kind"] for e in first["events"]] == ["created", "acknowledged", "removed"]
    chained = {"at", "actor_id", "kind", "detail", "data", "seq", "prev", "hash"}
    assert all(set(e) == chained for e in first["events"])
    assert first["category"] == "other" and first["order"] is None  # the key, not null

    as_csv = run_cli(tmp_path, "export", "--format", "csv", LIAISON_DATABASE=str(db_path))
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert json.loads(rows[2]["events"])[-1]["detail"] == "rejected: not propaganda"

    later = run_cli(tmp_path, "export", "--since", "2099-01-01", LIAISON_DATABASE=str(db_path))
    assert json.loads(later.stdout) == []
    bad = run_cli(tmp_path, "export", "--since", "yesterday", LIAISON_DATABASE=str(db_path))
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_stats_in_the_terminal(tmp_path: Path) -> None:
    db_path = tmp_path / "liaison.db"
    asyncio.run(_fill(db_path))
    result = run_cli(tmp_path, "stats", "--days", "7", LIAISON_DATABASE=str(db_path))
    assert result.returncode == 0, result.stderr
    assert "Statistik 7 hari terakhir" in result.stdout  # the default language is Indonesian
    assert "Tiket: 3" in result.stdout
    assert "<b>" not in result.stdout
    english = run_cli(tmp_path, "stats", LIAISON_DATABASE=str(db_path), LIAISON_LANGUAGE="en")
    assert "Tickets: 3" in english.stdout
