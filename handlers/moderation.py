"""/ack /done /reject /note /clarify /reopen /assign and the card buttons."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from telegram import Message, Update

from bot.domain.commands import parse_ids, parse_username, split_outcome
from bot.domain.tickets import Outcome
from bot.services import OUTCOME_WORDS, Feedback, Services
from bot.texts import ACK, ACK_ALL, DONE, REJECT

if TYPE_CHECKING:
    from bot.app import Context

log = logging.getLogger(__name__)

OUTCOMES = {word: outcome.value for word, outcome in OUTCOME_WORDS.items()}


async def _targets(message: Message, services: Services, ids: tuple[int, ...]) -> list[int]:
    """Ticket numbers from the arguments, else from the card (or report) being replied to."""
    if ids:
        return list(ids)
    reply = message.reply_to_message
    if reply is None:
        return []
    found = await services.tickets_on_message(message.chat_id, reply.message_id)
    return found or await services.ticket_for_report(message.chat_id, reply.message_id)


async def _answer(message: Message, services: Services, feedback: list[Feedback]) -> None:
    """One reply with what happened, leaving out what the chat already sees (cards, notices)."""
    items = [
        dataclasses.asdict(f)
        for f in feedback
        if not (f.changed and f.shown_in == message.chat_id)
    ]
    if items:
        await services.say(message.chat_id, "feedback", {"items": items}, message.message_id)


async def _usage(message: Message, services: Services, cmd: str) -> None:
    await services.say(message.chat_id, "usage", {"cmd": cmd}, message.message_id)


def _context(update: Update, context: Context) -> tuple[Message, int, Services] | None:
    message = update.message
    if message is None or message.from_user is None:
        return None
    return message, message.from_user.id, context.bot_data.services


async def cmd_ack(update: Update, context: Context) -> None:
    """/ack N… — acknowledge and take."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if not ids or parsed.rest:
        await _usage(message, services, "ack")
        return
    await _answer(message, services, await services.acknowledge(actor, ids))


async def cmd_done(update: Update, context: Context) -> None:
    """/done N… [outcome] [note] (alias /removed)."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if not ids:
        await _usage(message, services, "done")
        return
    outcome_word, note = split_outcome(parsed.rest, OUTCOMES)
    outcome = Outcome(outcome_word) if outcome_word else Outcome.REMOVED
    await _answer(message, services, await services.close(actor, ids, outcome, note))


async def cmd_reject(update: Update, context: Context) -> None:
    """/reject N reason."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if len(ids) != 1 or not parsed.text:
        await _usage(message, services, "reject")
        return
    await _answer(message, services, await services.reject(actor, ids[0], parsed.text))


async def cmd_note(update: Update, context: Context) -> None:
    """/note N text."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if len(ids) != 1 or not parsed.text:
        await _usage(message, services, "note")
        return
    await _answer(message, services, await services.note(actor, ids[0], parsed.text))


async def cmd_clarify(update: Update, context: Context) -> None:
    """/clarify N question."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if len(ids) != 1 or not parsed.text:
        await _usage(message, services, "clarify")
        return
    await _answer(message, services, await services.clarify(actor, ids[0], parsed.text))


async def cmd_reopen(update: Update, context: Context) -> None:
    """/reopen N [reason]."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    if len(ids) != 1:
        await _usage(message, services, "reopen")
        return
    await _answer(message, services, await services.reopen(actor, ids[0], parsed.text))


async def cmd_assign(update: Update, context: Context) -> None:
    """/assign N @user."""
    got = _context(update, context)
    if got is None:
        return
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    try:
        if len(ids) != 1 or len(parsed.rest) != 1:
            raise ValueError
        username = parse_username(parsed.rest[0])
    except ValueError:
        await _usage(message, services, "assign")
        return
    await _answer(message, services, await services.assign(actor, ids[0], username))


async def on_button(update: Update, context: Context) -> None:
    """[Acknowledge] [Removed] [Reject] and [Acknowledge all] on cards."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    services = context.bot_data.services
    renderer = context.bot_data.renderer
    data = query.data or ""
    actor = query.from_user.id
    message = query.message
    feedback: list[Feedback]
    if data == ACK_ALL and message is not None:
        ids = await services.tickets_on_message(message.chat.id, message.message_id)
        feedback = await services.acknowledge(actor, ids) if ids else []
    elif data.startswith((ACK, DONE, REJECT)) and _ticket_number(data.split(":", 1)[1]):
        prefix, number = data.split(":", 1)
        ticket_id = int(number)
        if prefix + ":" == ACK:
            feedback = await services.acknowledge(actor, [ticket_id])
        elif prefix + ":" == DONE:
            feedback = await services.close(actor, [ticket_id], Outcome.REMOVED)
        else:
            context.bot_data.answer_later(
                query, renderer.t("reject_hint", id=ticket_id), alert=True
            )
            return
    else:
        context.bot_data.answer_later(query, None)
        return
    text = "\n".join(renderer.t(f.key, **f.args) for f in feedback)[:200]
    refused = any(f.key == "refused" for f in feedback)
    context.bot_data.answer_later(query, text or None, alert=refused)


def _ticket_number(text: str) -> bool:
    """Callback data can be forged: only plain ASCII digits of a sane length are a ticket."""
    return text.isascii() and text.isdigit() and len(text) <= 9
