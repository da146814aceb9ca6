"""`/stats` and `/report`: load a period's figures from storage and render them.

A period of `days` days is today plus the `days - 1` local calendar days before it, so the
chart's first bar is a whole day. Storage and rendering only: no telegram imports.
"""

from __future__ import annotations

import asyncio
import html
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.charts import ChartLabels, day_label, render_chart
from bot.domain.roster import Roster
from bot.domain.stats import History, Share, Stats, compute_stats
from bot.domain.tickets import EscalationPolicy, Outcome, Status
from bot.export import load_records, to_csv
from bot.texts import CATALOGUES, Texts
from storage import repository as repo
from storage.db import Database

DAILY_LINES_MAX = 31  # longer periods: the daily figures are on the /report chart

NONE = "—"


def _s(lang: str, key: str, **args: object) -> str:
    """A figures text of the catalogue (context `figures`) in one language."""
    template = CATALOGUES[lang].particular("figures", key)
    return template.format(**args) if args else template


def period_start(now: datetime, zone: ZoneInfo, days: int) -> datetime:
    """Local midnight `days - 1` days before today (today alone for days <= 1)."""
    first = now.astimezone(zone).date() - timedelta(days=max(1, days) - 1)
    return datetime.combine(first, time(0), tzinfo=zone)


async def load_stats(
    db: Database, policy: EscalationPolicy, zone: ZoneInfo, now: datetime, days: int
) -> Stats:
    """The figures of the last `days` local days (today included) as of `now`."""
    since = period_start(now, zone, days)
    async with db.read() as conn:
        tickets = await repo.list_tickets_between(conn, since)
        events = await repo.list_events_for(conn, [t.id for t in tickets])
        reports = await repo.count_reports_between(conn, since)
        still_open = await repo.list_open_tickets(conn)
    histories = [History(t, events[t.id]) for t in tickets]
    return compute_stats(
        histories,
        reports=reports,
        since=since,
        now=now,
        policy=policy,
        zone=zone,
        open_now=still_open,
    )


def _span(texts: Texts, delta: timedelta | None) -> str:
    return NONE if delta is None else texts.span(delta)


def _share(share: Share) -> str:
    ratio = share.ratio
    return f"{share.within}/{share.total} ({NONE if ratio is None else f'{ratio:.0%}'})"


def stats_text(stats: Stats, texts: Texts, days: int) -> str:
    """Every figure of `/stats`, in the configured language (HTML)."""
    lang = texts.lang
    head = _s(lang, "head_today") if days <= 1 else _s(lang, "head", days=days)
    lines = [
        head,
        _s(lang, "period", since=texts.when(stats.since)),
        _s(
            lang,
            "volume",
            reports=stats.reports,
            tickets=stats.tickets,
            open=stats.open,
            closed=stats.closed,
        ),
    ]
    if stats.tickets == 0:
        lines.append(_s(lang, "no_tickets"))
    statuses = [f"{texts.t(f'st_{s.value}')} {stats.by_status[s]}" for s in Status]
    lines.append(_s(lang, "by_status", parts=" · ".join(statuses)))
    outcomes = [f"{texts.t(f'oc_{o.value}')} {stats.by_outcome[o]}" for o in Outcome]
    lines.append(_s(lang, "by_outcome", parts=" · ".join(outcomes)))
    lines.append("")
    for key, spread in (("ack", stats.to_acknowledge), ("close", stats.to_close)):
        lines.append(
            _s(
                lang,
                key,
                n=spread.count,
                median=_span(texts, spread.median),
                p90=_span(texts, spread.p90),
            )
        )
    lines.append(
        _s(
            lang,
            "within",
            all=_share(stats.within_deadline),
            urgent=_share(stats.within_urgent),
            normal=_share(stats.within_normal),
        )
    )
    lines.append(_s(lang, "within_note"))
    if stats.by_category:
        lines.append(_s(lang, "category_head"))
        lines.extend(
            _s(
                lang,
                "category_line",
                name=html.escape(stats.policy.categories.get(c.key).name(lang)),
                n=c.tickets,
                median=_span(texts, c.to_close.median),
                p90=_span(texts, c.to_close.p90),
                agreed=_share(c.within_agreed),
                legal=_share(c.within_legal),
            )
            for c in stats.by_category
        )
    lines.append(
        _s(
            lang,
            "pauses",
            n=stats.pauses.count,
            total=texts.span(stats.pauses.total),
            median=_span(texts, stats.pauses.median),
        )
    )
    lines.append("")
    overdue = stats.overdue
    if overdue.oldest_id is None:
        lines.append(_s(lang, "overdue_none"))
    else:
        lines.append(
            _s(
                lang,
                "overdue",
                n=overdue.count,
                id=overdue.oldest_id,
                by=_span(texts, overdue.oldest_by),
            )
        )
    esc = stats.escalations
    lines.append(
        _s(
            lang,
            "escalations",
            ack=esc.ack_reminder,
            overdue=esc.overdue,
            repeat=esc.overdue_repeat,
            nobody=esc.nobody_on_call,
            unreachable=esc.unreachable,
        )
    )
    lines.append(_s(lang, "reopened", n=stats.reopened))
    lines.append("")
    if len(stats.daily) > DAILY_LINES_MAX:
        lines.append(_s(lang, "daily_chart"))
    else:
        lines.append(_s(lang, "daily_head"))
        lines.extend(
            _s(
                lang,
                "daily_line",
                day=day_label(d.day),
                tickets=d.tickets,
                median=_span(texts, d.median_close),
            )
            for d in stats.daily
        )
    return "\n".join(lines)


def chart_labels(lang: str, days: int | None = None) -> ChartLabels:
    """Every word on the chart in one language (`days` goes in the title when given)."""
    title = _s(lang, "chart_title", days=days) if days is not None else _s(lang, "chart_title_any")
    return ChartLabels(
        title=title,
        volume_title=_s(lang, "volume_title"),
        volume_axis=_s(lang, "volume_axis"),
        close_title=_s(lang, "close_title"),
        close_axis=_s(lang, "close_axis"),
        median_close=_s(lang, "median_close"),
        deadline=_s(lang, "deadline"),
        urgent_deadline=_s(lang, "urgent_deadline"),
        no_data=_s(lang, "no_data"),
        language=lang,
    )


def report_caption(stats: Stats, lang: str, zone: ZoneInfo, days: int) -> str:
    """One short line to go under the chart (plain text: safe with or without HTML mode)."""
    texts = Texts(lang, zone, Roster((), None), stats.policy)  # only span() is used
    return _s(
        lang,
        "caption",
        days=max(1, days),
        tickets=stats.tickets,
        closed=stats.closed,
        median=_span(texts, stats.to_close.median),
        share=_share(stats.within_deadline),
    )


def csv_filename(now: datetime, zone: ZoneInfo, lang: str) -> str:
    """A name for the CSV attachment, e.g. tickets-2026-11-23.csv."""
    return _s(lang, "csv_name", day=now.astimezone(zone).date().isoformat())


async def build_report(
    db: Database,
    policy: EscalationPolicy,
    zone: ZoneInfo,
    lang: str,
    now: datetime,
    days: int,
) -> tuple[bytes, bytes, str]:
    """`/report`: (chart PNG, CSV of the period's tickets as UTF-8, caption)."""
    stats = await load_stats(db, policy, zone, now, days)
    records = await load_records(db, policy, stats.since, ticketless=False)
    # drawing takes a few hundred milliseconds: keep it off the event loop
    png = await asyncio.to_thread(render_chart, stats, chart_labels(lang, max(1, days)))
    return png, to_csv(records).encode("utf-8"), report_caption(stats, lang, zone, days)
