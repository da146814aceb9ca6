"""/stats and /report over a real SQLite database written through the repository."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import struct
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread

from bot.charts import render_chart
from bot.domain import tickets
from bot.domain.events import Event, parse_legacy
from bot.domain.roster import Roster
from bot.domain.stats import Day, Escalations, Overdue, Pauses, Share, Spread, compute_stats
from bot.domain.tickets import Outcome, Status, standard_policy
from bot.figures import (
    build_report,
    chart_labels,
    load_stats,
    period_start,
    report_caption,
    stats_text,
)
from bot.texts import Texts
from storage import repository as repo
from storage.db import Database

JAKARTA = ZoneInfo("Asia/Jakarta")
POLICY = standard_policy(
    ack=timedelta(minutes=15),
    resolve=timedelta(hours=4),
    urgent=timedelta(hours=1),
    repeat=timedelta(hours=1),
)
M = timedelta(minutes=1)
H = timedelta(hours=1)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 24 Nov 17:00 WIB
CHAT = -1001234567890


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.db")
    yield database
    await database.close()


def legacy_event(tid: int, at: datetime, actor: int | None, kind: str, detail: str) -> Event:
    """An event given as the sentence the previous release wrote."""
    return Event(tid, at, actor, parse_legacy(kind, detail), detail)


async def new_ticket(db: Database, n: int, at: datetime, *, urgent: bool = False) -> int:
    async with db.transaction() as conn:
        fresh = tickets.new_ticket(
            link=f"https://t.me/chan/{n}",
            link_key=f"t.me/chan/{n}",
            channel="chan",
            urgent=urgent,
            reporter_id=7,
            chat_id=CHAT,
            report_message_id=100 + n,
            now=at,
        )
        tid = await repo.add_ticket(conn, fresh, None)
        await repo.add_report(conn, tid, CHAT, 100 + n, 7, at)
        await repo.add_events(
            conn, [legacy_event(tid, at, 7, "created", f"https://t.me/chan/{n}")]
        )
    return tid


async def event(db: Database, tid: int, at: datetime, kind: str, detail: str = "") -> None:
    async with db.transaction() as conn:
        await repo.add_events(conn, [legacy_event(tid, at, None, kind, detail)])


async def change(db: Database, tid: int, **fields: object) -> None:
    async with db.transaction() as conn:
        t = await repo.get_ticket(conn, tid)
        await repo.save_ticket(conn, dataclasses.replace(t, **fields), None)  # type: ignore[arg-type]


@pytest.fixture
async def filled(db: Database) -> Database:
    """Two local days (23-24 Nov WIB) plus one older ticket still open."""
    # before the period (22 Nov 17:00 WIB): open, deadline 22 Nov 14:00 UTC -> 44h overdue
    old = await new_ticket(db, 4, nov(22, 10))
    assert old == 1
    # #2: normal, reported twice, ack after 10m, removed after 2h
    a = await new_ticket(db, 1, nov(23, 2))
    async with db.transaction() as conn:
        await repo.add_report(conn, a, CHAT, 500, 8, nov(23, 2, 30))
        await repo.add_events(conn, [legacy_event(a, nov(23, 2, 30), 8, "duplicate", "report 2")])
    await event(db, a, nov(23, 2, 10), "acknowledged")
    await event(db, a, nov(23, 4), "removed", "removed")
    await change(
        db,
        a,
        status=Status.REMOVED,
        outcome=Outcome.REMOVED,
        acknowledged_at=nov(23, 2, 10),
        closed_at=nov(23, 4),
        report_count=2,
    )
    # #3: urgent, ack after 5m, paused 05:10-05:40, banned at 06:30: 1h30m - 30m = 1h
    b = await new_ticket(db, 2, nov(23, 5), urgent=True)
    await event(db, b, nov(23, 5, 5), "acknowledged")
    await event(db, b, nov(23, 5, 10), "clarification", "<which> post & why?")
    await event(db, b, nov(23, 5, 40), "clarified", "this one")
    await event(db, b, nov(23, 6, 30), "removed", "banned")
    await change(
        db,
        b,
        status=Status.REMOVED,
        outcome=Outcome.BANNED,
        acknowledged_at=nov(23, 5, 5),
        closed_at=nov(23, 6, 30),
        paused_total=30 * M,
    )
    # #4: normal, never acknowledged: deadline 08:00, 2h overdue at 10:00
    c = await new_ticket(db, 3, nov(24, 4))
    await event(db, c, nov(24, 4, 15), "escalated", "step 1: ack_reminder")
    await event(db, c, nov(24, 8), "escalated", "step 2: overdue")
    await change(db, c, esc_step=2)
    return db


def texts(lang: str) -> Texts:
    return Texts(lang, JAKARTA, Roster((), None), POLICY)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_period_is_whole_local_days() -> None:
    assert period_start(NOW, JAKARTA, 1) == datetime(2026, 11, 24, tzinfo=JAKARTA)
    assert period_start(NOW, JAKARTA, 2) == nov(22, 17)  # 23 Nov 00:00 WIB
    assert period_start(NOW, JAKARTA, 7) == datetime(2026, 11, 18, tzinfo=JAKARTA)
    assert period_start(NOW, JAKARTA, 0) == period_start(NOW, JAKARTA, 1)


async def test_load_stats(filled: Database) -> None:
    s = await load_stats(filled, POLICY, JAKARTA, NOW, 2)
    assert s.since == nov(22, 17)
    assert (s.reports, s.tickets, s.closed, s.open) == (4, 3, 2, 1)  # #2 reported twice
    assert s.by_status[Status.REMOVED] == 2
    assert s.by_status[Status.OPEN] == 1
    assert s.by_outcome[Outcome.BANNED] == 1
    # ack: 10m, 5m -> median 7m30s, p90 rank ceil(1.8) = 2 -> 10m
    assert s.to_acknowledge == Spread(2, (10 * M + 5 * M) / 2, 10 * M)
    # close: 2h, 1h30m - 30m = 1h -> median 1h30m, p90 2h
    assert s.to_close == Spread(2, (2 * H + H) / 2, 2 * H)
    # normal: #2 within, #4 overdue; urgent: #3 exactly on its 1h window
    assert (s.within_normal, s.within_urgent) == (Share(1, 2), Share(1, 1))
    assert s.within_deadline == Share(2, 3)
    assert s.pauses == Pauses(1, 30 * M, 30 * M)
    # #1 predates the period but is open: 22 Nov 14:00 -> 24 Nov 10:00 = 44h
    assert s.overdue == Overdue(2, 1, 44 * H)
    assert s.escalations == Escalations(ack_reminder=1, overdue=1)
    assert s.daily == (
        Day(date(2026, 11, 23), 2, 2, (2 * H + H) / 2),
        Day(date(2026, 11, 24), 1, 0, None),
    )


async def test_stats_text_english(filled: Database) -> None:
    s = await load_stats(filled, POLICY, JAKARTA, NOW, 2)
    text = stats_text(s, texts("en"), 2)
    for part in (
        "<b>📊 Statistics, last 2 days</b>",
        "since 23 Nov 00:00 WIB",
        "Reports: 4 · Tickets: 3 (1 open, 2 closed)",
        "Status: Open 1 · Acknowledged 0 · Waiting for clarification 0 · Actioned 2 · Rejected 0",
        "channel banned 1",
        "<b>Time to acknowledge</b> (2 tickets): median 7m 30s · p90 10m",
        "<b>Time to close</b> (2 tickets): median 1h 30m · p90 2h",
        "<b>Closed within deadline</b>: 2/3 (67%) — urgent 1/1 (100%) · normal 1/2 (50%)",
        "Clarification pauses: 1, total 30m, median 30m",
        "Overdue now: 2 — longest #1, overdue by 1d 20h",
        "Escalations: reminders 1 · overdue 1 · repeats 0 · nobody on call 0",
        "Reopened: 0",
        "23/11: 2 · 1h 30m",
        "24/11: 1 · —",
        "<b>By category</b> (tickets; closed within the agreed / the legal window):",
        # #2 2h, #3 1h (urgent: agreed 1h), #4 open and past 4h but not 24h
        "Other (3): median 1h 30m · p90 2h · agreed 2/3 (67%) · legal 2/2 (100%)",
    ):
        assert part in text, part
    assert set(re.findall(r"</?[^>]*>", text)) == {"<b>", "</b>"}
    assert "<which>" not in text and "&" not in text
    assert len(text) < 4096


async def test_stats_text_bahasa_indonesia(filled: Database) -> None:
    s = await load_stats(filled, POLICY, JAKARTA, NOW, 2)
    text = stats_text(s, texts("id"), 2)
    for part in (
        "<b>📊 Statistik 2 hari terakhir</b>",
        "sejak 23 Nov 00:00 WIB",
        "Laporan: 4 · Tiket: 3 (terbuka 1, ditutup 2)",
        "Ditindak 2",
        "channel diblokir 1",
        "<b>Waktu hingga diterima</b> (2 tiket): median 7m 30d · p90 10m",
        "<b>Waktu hingga ditutup</b> (2 tiket): median 1j 30m · p90 2j",
        "<b>Ditutup dalam tenggat</b>: 2/3 (67%) — mendesak 1/1 (100%) · biasa 1/2 (50%)",
        "Jeda klarifikasi: 1, total 30m, median 30m",
        "Terlambat sekarang: 2 — terlama #1, lewat 1h 20j",
        "Eskalasi: pengingat 1 · lewat tenggat 1 · ulangan 0 · tanpa piket 0",
        "Dibuka kembali: 0",
        "23/11: 2 · 1j 30m",
        "<b>Per kategori</b>",
        "Lainnya (3): median 1j 30m · p90 2j · kesepakatan 2/3 (67%) · hukum 2/2 (100%)",
    ):
        assert part in text, part
    assert set(re.findall(r"</?[^>]*>", text)) == {"<b>", "</b>"}


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        (
            "en",
            [
                "Terrorism (1): median 1h · p90 1h · agreed 1/1 (100%) · legal 1/1 (100%)",
                "Other (2): median 2h · p90 2h · agreed 1/2 (50%) · legal 1/1 (100%)",
            ],
        ),
        (
            "id",
            [
                "Terorisme (1): median 1j · p90 1j · kesepakatan 1/1 (100%) · hukum 1/1 (100%)",
                "Lainnya (2): median 2j · p90 2j · kesepakatan 1/2 (50%) · hukum 1/1 (100%)",
            ],
        ),
    ],
)
async def test_stats_text_one_line_per_category(
    filled: Database, lang: str, lines: list[str]
) -> None:
    await change(filled, 3, category="terrorism")  # #3: 1h against terrorism's 1h and 4h
    text = stats_text(await load_stats(filled, POLICY, JAKARTA, NOW, 2), texts(lang), 2)
    at = [text.index(line) for line in lines]
    assert at == sorted(at)  # table order


async def test_stats_text_empty_period(db: Database) -> None:
    s = await load_stats(db, POLICY, JAKARTA, NOW, 1)
    text = stats_text(s, texts("en"), 1)
    assert "<b>📊 Statistics for today</b>" in text
    assert "No tickets in this period." in text
    assert "median — · p90 —" in text
    assert "0/0 (—)" in text
    assert "Overdue now: 0" in text


async def test_long_periods_point_to_the_chart(db: Database) -> None:
    s = await load_stats(db, POLICY, JAKARTA, NOW, 90)
    assert len(s.daily) == 90
    assert "Daily figures: see the /report chart" in stats_text(s, texts("en"), 90)


async def test_build_report(filled: Database) -> None:
    png, csv_bytes, caption = await build_report(filled, POLICY, JAKARTA, "en", NOW, 2)
    width, height = png_size(png)
    assert width >= 600 and height >= 600
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (height, width)
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8"))))
    assert [r["id"] for r in rows] == ["2", "3", "4"]  # #1 predates the period
    assert [r["status"] for r in rows] == ["removed", "removed", "open"]
    assert [r["urgent"] for r in rows] == ["false", "true", "false"]
    assert rows[0]["report_count"] == "2"
    assert [r["category"] for r in rows] == ["other", "other", "other"]
    assert caption == (
        "📊 2 days: 3 tickets, 2 closed · median time to close 1h 30m "
        "· within deadline 2/3 (67%). CSV: this period's tickets."
    )
    assert len(caption) <= 1024


async def test_build_report_in_bahasa_indonesia(filled: Database) -> None:
    png, _, caption = await build_report(filled, POLICY, JAKARTA, "id", NOW, 2)
    assert min(png_size(png)) >= 600
    assert caption.startswith("📊 2 hari: 3 tiket, 2 ditutup · median ditutup 1j 30m")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_chart_of_an_empty_period(lang: str) -> None:
    since = period_start(NOW, JAKARTA, 30)
    s = compute_stats([], reports=0, since=since, now=NOW, policy=POLICY, zone=JAKARTA)
    png = render_chart(s, chart_labels(lang, 30))
    assert png_size(png) == (1000, 1100)
    assert report_caption(s, lang, JAKARTA, 30).count("—") == 2


def test_chart_labels_in_both_languages() -> None:
    en, id_ = chart_labels("en", 7), chart_labels("id", 7)
    assert en.title == "Liaison tickets — last 7 days"
    assert id_.title == "Tiket chat penghubung — 7 hari terakhir"
    assert en.deadline.format(h="4") == "deadline (4 h)"
    assert id_.urgent_deadline.format(h="1") == "tenggat mendesak (1 jam)"
    assert chart_labels("en").title == "Liaison tickets"
