"""/ticket /open /oncall /help /start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from bot.domain.commands import parse_ids, parse_username
from bot.domain.durations import parse_duration
from bot.notices import (
    Answer,
    DmStarted,
    Feedback,
    Help,
    OnCallInfo,
    OpenList,
    TicketDetail,
)
from handlers.common import answer, replying, sender_of, targets, usage

if TYPE_CHECKING:
    from bot.context import Context


async def cmd_start(update: Update, context: Context) -> None:
    """/start in private: the person can now get direct messages."""
    got = sender_of(update, context)
    if got is None:
        return
    message, actor, services = got
    if message.chat.type != "private":
        await cmd_help(update, context)
        return
    person = services.roster.find_by_id(actor)
    await services.say(message.chat_id, DmStarted(name=person.name if person else ""))


async def cmd_help(update: Update, context: Context) -> None:
    """/help — the commands for the sender's role."""
    got = sender_of(update, context)
    if got is None:
        return
    message, actor, services = got
    role = services.role_of(actor)
    await services.say(message.chat_id, Help(role=role.value, **replying(message)))


async def cmd_ticket(update: Update, context: Context) -> None:
    """/ticket N — card plus full history."""
    got = sender_of(update, context)
    if got is None:
        return
    message, _actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await targets(message, services, parsed.ids)
    if len(ids) != 1 or parsed.rest:
        await usage(message, services, "ticket")
        return
    if await services.find_ticket(ids[0]) is None:
        await answer(message, services, [Feedback(Answer.UNKNOWN_TICKET, ids[0])])
        return
    detail = TicketDetail(tickets=tuple(ids), **replying(message))
    await services.say(message.chat_id, detail)


async def cmd_open(update: Update, context: Context) -> None:
    """/open — open tickets, most urgent deadline first."""
    got = sender_of(update, context)
    if got is None:
        return
    message, _actor, services = got
    await services.say(message.chat_id, OpenList(**replying(message)))


async def cmd_oncall(update: Update, context: Context) -> None:
    """/oncall — who is on call; /oncall @user [duration] — override."""
    got = sender_of(update, context)
    if got is None:
        return
    message, actor, services = got
    args = context.args or []
    if not args:
        await services.say(message.chat_id, OnCallInfo(**replying(message)))
        return
    try:
        if len(args) > 2:
            raise ValueError
        username = parse_username(args[0])
        duration = parse_duration(args[1]) if len(args) == 2 else None
        feedback = await services.set_on_call(actor, username, duration)
    except ValueError:
        await usage(message, services, "oncall")
        return
    if feedback.key is Answer.ONCALL_SET:
        await services.say(message.chat_id, OnCallInfo(**replying(message)))
    else:
        await answer(message, services, [feedback])
