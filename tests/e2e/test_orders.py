"""Orders through the sandbox: a document of links becomes tickets of one order."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from bot.sandbox.server import Sandbox
from storage import repository as repo
from tests.e2e.harness import CHAT, EVE, RINA, World, running_bot

TXT = (
    "Temuan 12 Mei\n"  # 1: no link
    "https://t.me/judol_satu/10\n"
    "t.me/judol_satu/10\n"  # a repeat within the file
    "https://t.me.judol.example/x/1\n"  # 4: a look-alike domain: no link
    "\n"
    "telegram.me/judol_dua/20 dan https://t.me/judol_tiga/30\n"
)


async def tickets(w: World) -> list[int]:
    async with w.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT id FROM tickets ORDER BY id")
    return [r[0] for r in rows]


def post(w: World, name: str, data: bytes, caption: str = "", **kw: object) -> int:
    message = w.sandbox.post_document(CHAT, RINA, name, data, caption=caption, **kw)  # type: ignore[arg-type]
    return int(message["message_id"])


async def test_txt_order_with_a_link_already_open(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "https://t.me/judol_dua/20")
        await w.reply_to(first["message_id"])
        doc = post(w, "temuan.txt", TXT.encode(), "Surat B-123/2026 #judol")
        summary = await w.text_containing("📦 Order 1")
        assert summary.reply_to == doc
        assert "2 new tickets, 1 already open" in summary.text
        assert "Reference: Surat B-123/2026 #judol" in summary.text
        assert "New: #2–#3" in summary.text
        assert "Already open (counted again): #1" in summary.text
        assert "Repeated within the file, counted once: 1" in summary.text
        assert "No Telegram link on line/cell: 1, 4" in summary.text
        await w.settled()
        assert await tickets(w) == [1, 2, 3]
        cards = [m for m in w.sent() if "#2 " in m.text and "#3 " in m.text]
        assert len(cards) == 1  # both new tickets on one grouped card
        records = {r["id"]: r for r in await w.export()}
        assert records[1]["order"] is None and records[1]["report_count"] == 2
        assert records[2]["order"] == 1 and records[3]["order"] == 1
        assert records[2]["events"][0]["data"]["order"] == 1
        # the caption's #judol sets the category of the order's new tickets
        assert records[2]["category"] == records[3]["category"] == "gambling"
        assert records[1]["category"] == "other"  # reported earlier, without a tag

        ask = w.say(EVE, "/order 1")
        progress = await w.reply_to(ask["message_id"])
        assert "📦 Order 1" in progress.text and "3 tickets" in progress.text
        assert "Open: 3" in progress.text
        assert "None closed yet." in progress.text
        unknown = w.say(RINA, "/order 9")
        assert "There is no order 9." in (await w.reply_to(unknown["message_id"])).text


def workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Temuan"
    sheet["A1"] = "Kanal"
    sheet["A2"] = "Kanal X"
    sheet["A2"].hyperlink = "https://t.me/kanal_x/5"
    sheet["B2"] = "https://t.me/kanal_y/6"
    sheet["B3"] = "https://t.me/kanal_y/6"
    other = book.create_sheet("Dua")
    other["C4"] = "https://telegram.dog/kanal_z/7"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_csv_and_xlsx_orders(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        csv = b"no;tautan;catatan\n1;https://t.me/kanal_a/1;judi\n2;t-me.example/kanal_b/2;palsu\n"
        post(w, "temuan.csv", csv)
        first = await w.text_containing("📦 Order 1")
        assert "1 new tickets" in first.text or "1 new ticket" in first.text
        assert "No Telegram link on line/cell: 1, 3" in first.text
        post(w, "temuan.xlsx", workbook(), "Surat B-124/2026")
        second = await w.text_containing("📦 Order 2")
        assert "New: #2–#4" in second.text
        assert "Temuan!A1" in second.text
        await w.settled()
        async with w.services.db.read() as conn:
            links = {t.link for t in await repo.list_open_tickets(conn)}
        assert links == {
            "https://t.me/kanal_a/1",
            "https://t.me/kanal_x/5",
            "https://t.me/kanal_y/6",
            "https://t.me/kanal_z/7",
        }


async def test_refusals_are_one_line_and_create_nothing(tmp_path: Path) -> None:
    cases = [
        ("foto.csv", b"\x89PNG\r\n\x1a\n\x00\x00https://t.me/a_chan/1", {}, "not what its name"),
        ("besar.txt", b"https://t.me/a_chan/1", {"file_size": 20 * 1024 * 1024 + 1}, "20 MB"),
        (
            "banyak.txt",
            "\n".join(f"https://t.me/chan_{i % 50}/{i + 1}" for i in range(10_001)).encode(),
            {},
            "more than 10,000 links",
        ),
        ("latin.txt", "kafé https://t.me/a_chan/1".encode("latin-1"), {}, "UTF-8"),
        ("kunci.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), {}, "password"),
    ]
    async with running_bot(tmp_path) as w:
        for name, data, extra, needle in cases:
            doc = post(w, name, data, **extra)
            answer = await w.reply_to(doc)
            assert answer.text.startswith("⛔"), name
            assert needle in answer.text, name
            assert "\n" not in answer.text, name
        await w.settled()
        assert await tickets(w) == []
        async with w.services.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT COUNT(*) FROM orders")
        assert rows[0][0] == 0


async def test_get_file_too_big_as_telegram_says(tmp_path: Path) -> None:
    """A document whose size Telegram did not state, refused by getFile."""
    async with running_bot(tmp_path) as w:
        sandbox: Sandbox = w.sandbox
        message = sandbox.post_document(CHAT, RINA, "x.txt", b"https://t.me/a_chan/1")
        sandbox._sizes[message["document"]["file_id"]] = 21 * 1024 * 1024
        answer = await w.reply_to(message["message_id"])
        assert "20 MB" in answer.text
        assert await tickets(w) == []


async def test_other_documents_are_ordinary_messages(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        doc = post(w, "laporan.pdf", b"%PDF-1.4", "lihat https://t.me/kanal_pdf/3")
        card = await w.reply_to(doc)
        assert card.text.startswith("📌 Ticket #1")
