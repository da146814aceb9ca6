"""The texts of orders: the summary reply, the refusal line and `/order N`."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.domain.orders import MAX_BYTES, MAX_LINKS, Progress, ticket_runs
from bot.texts import LIMIT, Texts, split_lines

LIST_BUDGET = LIMIT // 2  # one line of a long list; split_lines never cuts a line


def list_lines(texts: Texts, key: str, items: Sequence[str]) -> list[str]:
    """`label: a, b, c` as as many lines as it takes, each well under one message."""
    lines: list[str] = []
    part: list[str] = []
    size = 0
    for item in items:
        if part and size + len(item) + 2 > LIST_BUDGET:
            lines.append(texts.t(key, items=", ".join(part)))
            part, size = [], 0
        part.append(item)
        size += len(item) + 2
    if part:
        lines.append(texts.t(key, items=", ".join(part)))
    return lines


def summary_texts(
    texts: Texts,
    order: int,
    reference: str,
    new: Sequence[int],
    dup: Sequence[int],
    repeats: int,
    without: Sequence[str],
) -> list[str]:
    """The one reply to an order (split into messages of at most 4096 characters)."""
    head = texts.t("order_summary", order=order, new=len(new), dup=len(dup))
    lines = [texts.t("order_reference", reference=escape(reference))] if reference else []
    lines += list_lines(texts, "order_new", ticket_runs(new))
    lines += list_lines(texts, "order_dup", ticket_runs(dup))
    if repeats:
        lines.append(texts.t("order_repeats", count=repeats))
    lines += list_lines(texts, "order_without", [escape(p) for p in without])
    return split_lines(lines, head=head)


def refusal_text(texts: Texts, reason: str) -> str:
    """The one line a refused document gets."""
    return texts.t(
        f"order_refused_{reason}", mb=MAX_BYTES // (1024 * 1024), limit=f"{MAX_LINKS:,}"
    )


def progress_texts(
    texts: Texts, order: int, reference: str, when: str, progress: Progress
) -> list[str]:
    """`/order N`: its tickets by status, the overdue ones, the share closed in time."""
    head = texts.t("order_progress", order=order, total=progress.total, when=when)
    lines = [texts.t("order_reference", reference=escape(reference))] if reference else []
    lines += [
        texts.t("order_status_line", status=texts.t(f"st_{status.value}"), count=count)
        for status, count in progress.by_status.items()
    ]
    lines += list_lines(texts, "order_overdue", ticket_runs(progress.overdue))
    if progress.closed:
        share = round(100 * progress.closed_in_time / progress.closed)
        lines.append(
            texts.t(
                "order_in_time",
                share=share,
                within=progress.closed_in_time,
                closed=progress.closed,
            )
        )
    else:
        lines.append(texts.t("order_none_closed"))
    return split_lines(lines, head=head)
