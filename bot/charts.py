"""The `/report` chart: daily volume and daily median time to close, as a PNG for a phone.

Built on `matplotlib.figure.Figure` with the Agg canvas: no pyplot, so no global state and no
GUI backend, and safe to call from any thread.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.stats import Stats

WIDTH_IN, HEIGHT_IN, DPI = 10, 11, 100  # 1000 × 1100 px: fills a phone screen, still sharp
BAR = "#3b6ea8"
PALETTE = (BAR, "#6aa84f", "#a64d79", "#e69138", "#674ea7", "#45818e", "#999999", "#cc4125")
LINE = "#d9822b"
DEADLINE = "#b83232"


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every word on the chart, in one language (`{h}` is replaced by a number of hours)."""

    title: str
    volume_title: str
    volume_axis: str
    close_title: str
    close_axis: str
    median_close: str
    deadline: str
    urgent_deadline: str
    no_data: str
    language: str = "en"  # for the categories' names in the legend


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _number(hours: float) -> str:
    return f"{hours:g}"


def day_label(day: date) -> str:
    """A day as dd/mm."""
    return f"{day.day:02d}/{day.month:02d}"  # numeric: reads the same in both languages


def render_chart(stats: Stats, labels: ChartLabels) -> bytes:
    """A two-panel PNG: tickets per day (bars), median time to close per day vs deadlines."""
    # imported here, not at module level: matplotlib costs most of the bot's start-up time
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(labels.title, fontsize=24, fontweight="bold")
    top, bottom = fig.subplots(2, 1, sharex=True)

    days = stats.daily
    xs = list(range(len(days)))
    volumes = [d.tickets for d in days]
    by_day = dict(stats.daily_by_category)
    keys = [k for k in stats.policy.categories.keys if any(k in c for c in by_day.values())]
    bottoms = [0] * len(days)
    bars = None
    for index, key in enumerate(keys or [stats.policy.categories.default]):
        heights = [by_day.get(d.day, {}).get(key, 0) for d in days] if keys else volumes
        name = stats.policy.categories.get(key).name(labels.language) if keys else None
        colour = PALETTE[index % len(PALETTE)]
        bars = top.bar(xs, heights, bottom=bottoms, color=colour, width=0.7, label=name)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    if len(keys) > 1:
        top.legend(fontsize=12, loc="upper left")
    if bars is not None and len(days) <= 31:
        top.bar_label(bars, labels=[str(v) if v else "" for v in volumes], fontsize=14)
    top.set_title(labels.volume_title, fontsize=20, loc="left")
    top.set_ylabel(labels.volume_axis, fontsize=16)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylim(0, max([1, *volumes]) * 1.2)

    medians = [_hours(d.median_close) if d.median_close is not None else math.nan for d in days]
    resolve, urgent = (
        _hours(stats.policy.categories.get(stats.policy.categories.default).agreed),
        _hours(stats.policy.urgent),
    )
    bottom.plot(
        xs, medians, color=LINE, marker="o", markersize=10, linewidth=3, label=labels.median_close
    )
    bottom.axhline(
        resolve, color=DEADLINE, linewidth=2.5, label=labels.deadline.format(h=_number(resolve))
    )
    bottom.axhline(
        urgent,
        color=DEADLINE,
        linewidth=2.5,
        linestyle="--",
        label=labels.urgent_deadline.format(h=_number(urgent)),
    )
    known = [m for m in medians if not math.isnan(m)]
    bottom.set_ylim(0, max([resolve, urgent, *known]) * 1.5)  # headroom: the legend sits on top
    if not known:
        bottom.text(
            0.5,
            0.5,
            labels.no_data,
            transform=bottom.transAxes,
            ha="center",
            va="center",
            fontsize=18,
            color="#666666",
        )
    bottom.set_title(labels.close_title, fontsize=20, loc="left")
    bottom.set_ylabel(labels.close_axis, fontsize=16)
    bottom.legend(fontsize=14, loc="upper left")

    step = max(1, math.ceil(len(days) / 10))  # at most ~10 day labels: legible on a phone
    bottom.set_xticks(xs[::step], [day_label(d.day) for d in days[::step]])
    bottom.set_xlim(-0.6, max(len(days), 1) - 0.4)
    for ax in (top, bottom):
        ax.tick_params(labelsize=14)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
