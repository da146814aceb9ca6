"""/stats /report /export /anchor: supervisors' figures and proof, sent by the outbox sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from handlers.common import answer, sender_of, usage

if TYPE_CHECKING:
    from bot.context import Context

MAX_DAYS = 366


def parse_days(args: list[str], default: int) -> int | None:
    """`[days]`: a whole number from 1 to 366, or the default; None when malformed."""
    if not args:
        return default
    if len(args) == 1 and args[0].isdigit() and 1 <= int(args[0]) <= MAX_DAYS:
        return int(args[0])
    return None


async def _figures(update: Update, context: Context, what: str, default: int) -> None:
    got = sender_of(update, context)
    if got is None:
        return
    message, actor, services = got
    days = parse_days(context.args or [], default)
    if days is None:
        await usage(message, services, what)
        return
    feedback = await services.request_figures(
        actor, message.chat_id, what, days, message.message_id
    )
    await answer(message, services, [feedback])


async def cmd_stats(update: Update, context: Context) -> None:
    """/stats [days] — counts, medians, p90s, share within deadline."""
    await _figures(update, context, "stats", 7)


async def cmd_report(update: Update, context: Context) -> None:
    """/report [days] — chart (PNG) and the period's tickets (CSV)."""
    await _figures(update, context, "report", 7)


async def cmd_anchor(update: Update, context: Context) -> None:
    """/anchor — post the chain head now (its words are ignored)."""
    got = sender_of(update, context)
    if got is None:
        return
    message, actor, services = got
    feedback = await services.request_anchor(actor, message.chat_id, message.message_id)
    await answer(message, services, [feedback])


async def cmd_export(update: Update, context: Context) -> None:
    """/export [days] — tickets and their history as JSON."""
    await _figures(update, context, "export", 30)
