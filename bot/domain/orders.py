"""Orders: the Telegram links of a `.txt`, `.csv` or `.xlsx` document, or why it is refused.

Pure (bytes in, links out; stdlib only). The normal intake rules hold: every link
form `extract_links` knows, duplicates within the file count once, look-alike domains are
no links. What held no Telegram link is named by line (`.txt`, `.csv`) or `Sheet!B4`.

Workbooks: the zip directory is checked here first (the workbook parts, total and
per-part uncompressed sizes, compression ratio, number of parts, encryption), so the full
load stays bounded (zipfile never inflates a part beyond its declared size); the cells are
then read by bot/workbook.py (openpyxl, outside this pure layer).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.links import Link, extract_links
from bot.domain.tickets import EscalationPolicy, Status, Ticket, deadline_at, is_overdue

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
    UNAVAILABLE = "unavailable"  # Telegram did not hand the file over (download failed)


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


# a workbook's non-empty cells as (`Sheet!A1`, [hyperlink target, value]); the reader (openpyxl,
# bot/workbook.py) stays outside the pure domain and is handed in
WorkbookReader = Callable[[bytes], Iterator[tuple[str, list[str]]]]


def parse_order(file_name: str, data: bytes, read_workbook: WorkbookReader) -> ParsedOrder:
    """The order a document holds; raises OrderRefused (one reason) for the whole file.
    A workbook's zip directory is checked here before `read_workbook` inflates anything."""
    if len(data) > MAX_BYTES:
        raise OrderRefused(Refusal.TOO_BIG)
    name = file_name.lower()
    if name.endswith(".xlsx"):
        check_workbook(data)
        places = read_workbook(data)
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


def check_workbook(data: bytes) -> None:
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


# ---- what an order's replies say ---------------------------------------------------------------


def ticket_runs(ids: Sequence[int]) -> list[str]:
    """Ticket numbers as runs: [12, 13, 14, 20] -> ["#12–#14", "#20"] (sorted, unique)."""
    out: list[str] = []
    ordered = sorted(set(ids))
    start = prev = None
    for n in [*ordered, None]:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            out.append(f"#{start}" if start == prev else f"#{start}–#{prev}")
        start = prev = n
    return out


@dataclass(frozen=True, slots=True)
class Progress:
    """An order's tickets by status, the open ones past their deadline, and how many of the
    closed ones were closed within it."""

    by_status: dict[Status, int]
    overdue: tuple[int, ...]
    closed: int
    closed_in_time: int

    @property
    def total(self) -> int:
        """Every ticket of the order."""
        return sum(self.by_status.values())


def order_progress(tickets: Sequence[Ticket], policy: EscalationPolicy, now: datetime) -> Progress:
    """Where an order stands at `now`."""
    by_status = dict.fromkeys(Status, 0)
    overdue: list[int] = []
    closed = in_time = 0
    for t in tickets:
        by_status[t.status] += 1
        if t.is_closed:
            closed += 1
            if t.closed_at is not None and t.closed_at <= deadline_at(t, policy):
                in_time += 1
        elif is_overdue(t, policy, now):
            overdue.append(t.id)
    return Progress({s: n for s, n in by_status.items() if n}, tuple(overdue), closed, in_time)
