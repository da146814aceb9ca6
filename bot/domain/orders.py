"""Orders: the Telegram links of a `.txt`, `.csv` or `.xlsx` document, or why it is refused.

Pure (bytes in, links out; stdlib and openpyxl). The normal intake rules hold: every link
form `extract_links` knows, duplicates within the file count once, look-alike domains are
no links. What held no Telegram link is named by line (`.txt`, `.csv`) or `Sheet!B4`.

Workbooks are read with openpyxl in its normal (not read-only) mode: read-only worksheets
have no cell hyperlinks, and a cell showing "Kanal X" may link to the post. The zip
directory is checked first (total and per-part uncompressed sizes, number of parts), so
the full load stays bounded; zipfile never inflates a part beyond its declared size.
Formulas are read by their saved values (data_only).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.links import Link, extract_links

MAX_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
MAX_LINKS = 10_000
MAX_UNZIPPED = 100 * 1024 * 1024  # a workbook's parts, uncompressed, together
MAX_PART = 60 * 1024 * 1024  # one part, uncompressed
MAX_PARTS = 2_000
MAX_RATIO = 200  # uncompressed / compressed of one part (text XML compresses ~10-30x)
EXTENSIONS = (".txt", ".csv", ".xlsx")

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: encrypted OOXML, or legacy .xls
_ZIP = b"PK\x03\x04"
_BINARY_MAGIC = (
    _ZIP,
    b"PK\x05\x06",
    _OLE,
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x7fELF",
    b"MZ",
    b"\x1f\x8b",
    b"Rar!",
    b"7z\xbc\xaf",
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_WORKBOOK_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


class Refusal(StrEnum):
    """Why a document is not taken as an order (each has a one-line text)."""

    TOO_BIG = "too_big"  # over MAX_BYTES
    TOO_MANY_LINKS = "too_many_links"  # over MAX_LINKS distinct links
    MISMATCH = "mismatch"  # the content is not what the name says (a renamed binary)
    ZIP_BOMB = "zip_bomb"  # the workbook would inflate beyond the caps
    ENCRYPTED = "encrypted"  # a password-protected (or legacy .xls) workbook
    NOT_TEXT = "not_text"  # text that is not UTF-8 or UTF-16
    UNREADABLE = "unreadable"  # a damaged file
    EMPTY = "empty"  # no Telegram link at all


class OrderRefused(Exception):
    """The document is refused as a whole: nothing of it becomes a ticket."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedOrder:
    """The links of a document (first occurrence order), how many repeats were dropped,
    and the places (line numbers or `Sheet!A1`) that held something but no Telegram link."""

    links: tuple[Link, ...]
    repeats: int
    without_link: tuple[str, ...]


def is_order_name(file_name: str | None) -> bool:
    """True for the document names an order may have."""
    return bool(file_name) and str(file_name).lower().endswith(EXTENSIONS)


def parse_order(file_name: str, data: bytes) -> ParsedOrder:
    """The order a document holds; raises OrderRefused (one reason) for the whole file."""
    if len(data) > MAX_BYTES:
        raise OrderRefused(Refusal.TOO_BIG)
    name = file_name.lower()
    if name.endswith(".xlsx"):
        places = _workbook_cells(data)
    elif name.endswith((".txt", ".csv")):
        text = decode_text(data)
        places = _csv_rows(text) if name.endswith(".csv") else _text_lines(text)
    else:
        raise OrderRefused(Refusal.MISMATCH)
    return _collect(places)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 (BOM, or NUL-interleaved ASCII); else refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(data[3:], "utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(data, "utf-16")
    if data.startswith(_BINARY_MAGIC):
        raise OrderRefused(Refusal.MISMATCH)
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        # UTF-16 without a BOM: ASCII text has every other byte zero
        even_zero = sample[0::2].count(0) > sample[1::2].count(0)
        return _checked(data, "utf-16-be" if even_zero else "utf-16-le")
    return _checked(data, "utf-8")


def _checked(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise OrderRefused(Refusal.NOT_TEXT) from exc
    if _CONTROL.search(text):  # NULs and other control bytes: a binary file, renamed
        raise OrderRefused(Refusal.MISMATCH)
    return text


def _text_lines(text: str) -> Iterator[tuple[str, list[str]]]:
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        yield str(number), [line]


def _csv_rows(text: str) -> Iterator[tuple[str, list[str]]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:16384], delimiters=",;\t|"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    start = 1
    try:
        for row in reader:
            yield str(start), row
            start = reader.line_num + 1
    except csv.Error as exc:  # a field beyond csv's size limit, a NUL
        raise OrderRefused(Refusal.UNREADABLE) from exc


def _check_zip(data: bytes) -> None:
    """Before anything is inflated: the parts a workbook needs, and sizes within the caps."""
    if data.startswith(_OLE):
        raise OrderRefused(Refusal.ENCRYPTED)
    if not data.startswith(_ZIP):
        raise OrderRefused(Refusal.MISMATCH)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise OrderRefused(Refusal.UNREADABLE) from exc
    names = {i.filename for i in infos}
    if not all(part in names for part in _WORKBOOK_PARTS):
        raise OrderRefused(Refusal.MISMATCH)
    if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNZIPPED:
        raise OrderRefused(Refusal.ZIP_BOMB)
    for info in infos:
        if info.file_size > MAX_PART or info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise OrderRefused(Refusal.ZIP_BOMB)
        if info.flag_bits & 0x1:
            raise OrderRefused(Refusal.ENCRYPTED)


def _workbook_cells(data: bytes) -> Iterator[tuple[str, list[str]]]:
    _check_zip(data)
    import openpyxl  # imported here: only workbooks need it, and it is slow to import

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged part
        raise OrderRefused(Refusal.UNREADABLE) from exc
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    texts: list[str] = []
                    link = cell.hyperlink
                    if link is not None and link.target:
                        texts.append(str(link.target))
                    if cell.value is not None:
                        texts.append(str(cell.value))
                    if texts:
                        yield f"{sheet.title}!{cell.coordinate}", texts
    finally:
        book.close()


def _collect(places: Iterator[tuple[str, list[str]]]) -> ParsedOrder:
    found: dict[str, Link] = {}
    repeats = 0
    without: list[str] = []
    for place, texts in places:
        joined = "\n".join(texts)
        if not joined.strip():
            continue
        links = extract_links(joined)
        if not links:
            without.append(place)
            continue
        for link in links:
            if link.key in found:
                repeats += 1
                continue
            found[link.key] = link
            if len(found) > MAX_LINKS:
                raise OrderRefused(Refusal.TOO_MANY_LINKS)
    if not found:
        raise OrderRefused(Refusal.EMPTY)
    return ParsedOrder(tuple(found.values()), repeats, tuple(without))
