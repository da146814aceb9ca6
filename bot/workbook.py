"""Reading an order workbook's cells with openpyxl (bot.domain.orders checks it first).

Normal mode, not read-only: read-only worksheets have no cell hyperlinks, and a cell
showing "Kanal X" may link to the post. The load is bounded by the zip checks in
bot.domain.orders.check_workbook. Formulas are read by their saved values (data_only).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from bot.domain.orders import OrderRefused, Refusal


def read_workbook(data: bytes) -> Iterator[tuple[str, list[str]]]:
    """Every non-empty cell of every sheet as (`Sheet!A1`, [hyperlink target, value])."""
    import openpyxl  # here: only workbooks need it, and it is slow to import

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
