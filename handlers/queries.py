"""/ticket /open /oncall /help /start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from bot.domain.commands import parse_ids, parse_username
from bot.domain.durations import parse_duration
from handlers.moderation import _answer, _context, _targets, _usage

if TYPE_CHECKING:
    from bot.app import Context


async def cmd_start(update: Update, context: Context) -> None:
    """/start in private: the person can now get direct messages."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    if message.chat.type != "private":
        await cmd_help(update, context)
        return
    person = services.roster.find_by_id(actor)
    await services.say(message.chat_id, "dm_started", {"name": person.name if person else ""})


async def cmd_help(update: Update, context: Context) -> None:
    """/help — the commands for the sender's role."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    role = services.role_of(actor)
    await services.say(message.chat_id, "help", {"role": role.value}, message.message_id)


async def cmd_ticket(update: Update, context: Context) -> None:
    """/ticket N — card plus full history."""
    got = _context(update, context)
    if got is None:
        return
    message, _actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if len(ids) != 1 or parsed.rest:
        await _usage(message, services, "ticket")
        return
    if await services.find_ticket(ids[0]) is None:
        from bot.services import Feedback

        await _answer(message, services, [Feedback("unknown_ticket", {"id": ids[0]})])
        return
    await services.say(message.chat_id, "ticket_detail", {"tickets": ids}, message.message_id)


async def cmd_open(update: Update, context: Context) -> None:
    """/open — open tickets, most urgent deadline first."""
    got = _context(update, context)
    if got is None:
        return
    message, _actor, services = got
    await services.say(message.chat_id, "open_list", {}, message.message_id)


async def cmd_oncall(update: Update, context: Context) -> None:
    """/oncall — who is on call; /oncall @user [duration] — override."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    args = context.args or []
    if not args:
        await services.say(message.chat_id, "oncall_info", {}, message.message_id)
        return
    try:
        if len(args) > 2:
            raise ValueError
        username = parse_username(args[0])
        duration = parse_duration(args[1]) if len(args) == 2 else None
        feedback = await services.set_on_call(actor, username, duration)
    except ValueError:
        await _usage(message, services, "oncall")
        return
    if feedback.key == "oncall_set":
        await services.say(message.chat_id, "oncall_info", {}, message.message_id)
    else:
        await _answer(message, services, [feedback])
