"""Order documents: what links each kind of file yields, and every refusal (table-driven)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from bot.domain.orders import (
    MAX_LINKS,
    OrderRefused,
    ParsedOrder,
    Refusal,
    is_order_name,
)
from bot.domain.orders import parse_order as parse
from bot.workbook import read_workbook


def parse_order(name: str, data: bytes) -> ParsedOrder:
    return parse(name, data, read_workbook)


def xlsx(build: object = None) -> bytes:
    """A small workbook: two sheets, a plain link, a hyperlinked label, a formula."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Temuan"
    first["A1"] = "link"
    first["A2"] = "https://t.me/judi_a/10"
    first["B2"] = "Kanal X"
    first["B2"].hyperlink = "https://t.me/judi_b/20"
    first["A3"] = "catatan tanpa tautan"
    first["A4"] = "t.me/judi_a/10"  # a repeat
    first["A5"] = "https://t.me.evil.example/x/1"  # a look-alike
    second = book.create_sheet("Lain")
    second["C7"] = 'Lihat telegram.me/judi_c/30 dan "tg://resolve?domain=judi_d&post=4"'
    second["A1"] = '="https://t.me/" & "judi_e/5"'
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(parts: dict[str, bytes], *, level: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", level) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def keys(parsed: ParsedOrder) -> list[str]:
    return [link.canonical for link in parsed.links]


TXT = "https://t.me/a_chan/1\nchatter\n\nt.me/a_chan/1\r\nhttps://telegram.me/b_chan/2 t.me/c_chan/3\nhttps://t-me.example/x/1\n"


@pytest.mark.parametrize(
    ("name", "data", "links", "repeats", "without"),
    [
        (
            "temuan.txt",
            TXT.encode(),
            ["https://t.me/a_chan/1", "https://t.me/b_chan/2", "https://t.me/c_chan/3"],
            1,
            ("2", "6"),
        ),
        ("bom.TXT", b"\xef\xbb\xbf" + TXT.encode(), None, 1, ("2", "6")),
        ("u16.txt", TXT.encode("utf-16"), None, 1, ("2", "6")),
        ("u16le.txt", TXT.encode("utf-16-le"), None, 1, ("2", "6")),
        (
            "semicolon.csv",
            b'no;link;note\n1;https://t.me/a_chan/1;x\n2;;"multi\nline"\n3;t.me/b_chan/2;https://t.me/a_chan/1\n',
            ["https://t.me/a_chan/1", "https://t.me/b_chan/2"],
            1,
            ("1", "3"),
        ),
        (
            "tabs.csv",
            b"a\tb\nx\thttps://t.me/a_chan/9\n",
            ["https://t.me/a_chan/9"],
            0,
            ("1",),
        ),
    ],
)
def test_text_orders(
    name: str, data: bytes, links: list[str] | None, repeats: int, without: tuple[str, ...]
) -> None:
    parsed = parse_order(name, data)
    if links is not None:
        assert keys(parsed) == links
    assert parsed.repeats == repeats
    assert parsed.without_link == without


def test_workbook_every_sheet_hyperlinks_and_repeats() -> None:
    parsed = parse_order("order.xlsx", xlsx())
    found = keys(parsed)
    assert "https://t.me/judi_a/10" in found
    assert "https://t.me/judi_b/20" in found  # only the cell's hyperlink holds it
    assert "https://t.me/judi_c/30" in found and "https://t.me/judi_d/4" in found
    assert parsed.repeats == 1
    assert "Temuan!A3" in parsed.without_link and "Temuan!A5" in parsed.without_link
    assert "Temuan!A1" in parsed.without_link
    # a formula never calculated has no saved value: nothing to read, no place named
    assert not any(p.startswith("Lain!A1") for p in parsed.without_link)


def many(n: int) -> bytes:
    return "\n".join(f"https://t.me/chan_{i % 97}/{i + 1}" for i in range(n)).encode()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("big.txt", b"x" * (20 * 1024 * 1024 + 1), Refusal.TOO_BIG),
        ("many.txt", many(MAX_LINKS + 1), Refusal.TOO_MANY_LINKS),
        ("photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, Refusal.MISMATCH),
        ("nul.csv", b"https://t.me/a/1\x00\x01\x02", Refusal.MISMATCH),
        ("exe.csv", b"MZ\x90\x00" + b"t.me/a_chan/1", Refusal.MISMATCH),
        ("latin1.txt", "café https://t.me/a_chan/1".encode("latin-1"), Refusal.NOT_TEXT),
        ("bad16.txt", b"\xff\xfe\x00\xd8", Refusal.NOT_TEXT),
        ("none.txt", b"just words\nno links here\n", Refusal.EMPTY),
        ("text.xlsx", b"https://t.me/a_chan/1\n", Refusal.MISMATCH),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, Refusal.ENCRYPTED),
        ("plain.xlsx", zipped({"a.txt": b"https://t.me/a_chan/1"}), Refusal.MISMATCH),
        ("cut.xlsx", xlsx()[:300], Refusal.UNREADABLE),
        (
            "bomb.xlsx",
            zipped(
                {
                    "[Content_Types].xml": b"<x/>",
                    "xl/workbook.xml": b"<x/>",
                    "xl/worksheets/sheet1.xml": b" " * (61 * 1024 * 1024),
                }
            ),
            Refusal.ZIP_BOMB,
        ),
        (
            "dense.xlsx",
            zipped(
                {
                    "[Content_Types].xml": b"<x/>",
                    "xl/workbook.xml": b"<x/>",
                    "xl/sharedStrings.xml": b"a" * (5 * 1024 * 1024),
                }
            ),
            Refusal.ZIP_BOMB,
        ),
        (
            "broken.xlsx",
            zipped({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"not xml"}),
            Refusal.UNREADABLE,
        ),
        ("order.pdf", b"%PDF-1.4", Refusal.MISMATCH),
    ],
)
def test_refusals(name: str, data: bytes, reason: Refusal) -> None:
    with pytest.raises(OrderRefused) as caught:
        parse_order(name, data)
    assert caught.value.reason is reason


def test_exactly_the_limit_is_taken() -> None:
    assert len(parse_order("many.txt", many(MAX_LINKS)).links) == MAX_LINKS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.txt", True),
        ("A.CSV", True),
        ("b.xlsx", True),
        ("c.xls", False),
        ("d.pdf", False),
        (None, False),
        ("", False),
    ],
)
def test_order_names(name: str | None, expected: bool) -> None:
    assert is_order_name(name) is expected
