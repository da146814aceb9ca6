"""/stats, /report and /export through the sandbox: text, photo and documents arrive."""

from __future__ import annotations

import csv
import io
import json
import struct
from pathlib import Path

from tests.e2e.harness import ANDI, RINA, SARI, SUP_CHAT, running_bot


async def _some_tickets(w) -> None:  # type: ignore[no-untyped-def]
    for n in range(1, 4):
        msg = w.say(RINA, f"t.me/figures_channel/{n}" + (" #urgent" if n == 3 else ""))
        await w.reply_to(msg["message_id"])
    w.say(ANDI, "/ack 1 2")
    w.say(ANDI, "/done 1")
    await w.settled()


async def test_stats_for_supervisors_only(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await _some_tickets(w)
        refused = w.say(RINA, "/stats")
        assert "not for your role" in (await w.reply_to(refused["message_id"])).text
        asked = w.say(SARI, "/stats 7", chat=SUP_CHAT)
        stats = await w.reply_to(asked["message_id"], chat=SUP_CHAT)
        assert "Statistics" in stats.text
        assert "Tickets: 3" in stats.text
        assert "Time to acknowledge" in stats.text and "Time to close" in stats.text
        bad = w.say(SARI, "/stats lots", chat=SUP_CHAT)
        assert "Usage: /stats" in (await w.reply_to(bad["message_id"], chat=SUP_CHAT)).text


async def test_report_sends_a_chart_and_a_csv(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await _some_tickets(w)
        asked = w.say(SARI, "/report 3", chat=SUP_CHAT)
        photo = await w.wait(
            lambda: next((m for m in w.sent(SUP_CHAT) if m.kind == "photo"), None), within=20
        )
        assert photo.reply_to == asked["message_id"]
        png = photo.file_bytes or b""
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width >= 600 and height >= 600
        doc = await w.wait(
            lambda: next((m for m in w.sent(SUP_CHAT) if m.kind == "document"), None)
        )
        assert (doc.file_name or "").endswith(".csv")
        rows = list(csv.DictReader(io.StringIO((doc.file_bytes or b"").decode("utf-8"))))
        assert [(r["id"], r["status"]) for r in rows] == [
            ("1", "removed"),
            ("2", "acknowledged"),
            ("3", "open"),
        ]


async def test_export_in_chat_is_spec_json(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        await _some_tickets(w)
        w.say(SARI, "/export", chat=SUP_CHAT)
        doc = await w.wait(
            lambda: next((m for m in w.sent(SUP_CHAT) if m.kind == "document"), None)
        )
        records = json.loads((doc.file_bytes or b"").decode("utf-8"))
        assert [r["id"] for r in records] == [1, 2, 3]
        assert records[2]["urgent"] is True
        assert records[0]["events"][-1]["kind"] == "removed"
