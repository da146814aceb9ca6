"""/ack /done /reject /note /clarify /reopen /assign and the card buttons."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
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


@dataclasses.dataclass(frozen=True)
class _Call:
    """A moderation command: who sent it, its ticket numbers (or the card replied to), the
    rest of its arguments."""

    message: Message
    actor: int
    services: Services
    ids: list[int]
    rest: tuple[str, ...]
    text: str

    async def usage(self, cmd: str) -> None:
        await _usage(self.message, self.services, cmd)

    async def answer(self, feedback: list[Feedback]) -> None:
        await _answer(self.message, self.services, feedback)


async def _call(update: Update, context: Context) -> _Call | None:
    got = _context(update, context)
    if got is None:
        return None
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await _targets(message, services, parsed.ids)
    return _Call(message, actor, services, ids, parsed.rest, parsed.text)


async def _one_with_text(
    update: Update, context: Context, cmd: str, act: Callable[[_Call], Awaitable[list[Feedback]]]
) -> None:
    """The /reject, /note and /clarify shape: exactly one ticket and a text."""
    call = await _call(update, context)
    if call is None:
        return
    if len(call.ids) != 1 or not call.text:
        await call.usage(cmd)
        return
    await call.answer(await act(call))


async def cmd_ack(update: Update, context: Context) -> None:
    """/ack N… — acknowledge and take."""
    call = await _call(update, context)
    if call is None:
        return
    if not call.ids or call.rest:
        await call.usage("ack")
        return
    await call.answer(await call.services.acknowledge(call.actor, call.ids))


async def cmd_done(update: Update, context: Context) -> None:
    """/done N… [outcome] [note] (alias /removed)."""
    call = await _call(update, context)
    if call is None:
        return
    if not call.ids:
        await call.usage("done")
        return
    outcome_word, note = split_outcome(call.rest, OUTCOMES)
    outcome = Outcome(outcome_word) if outcome_word else Outcome.REMOVED
    await call.answer(await call.services.close(call.actor, call.ids, outcome, note))


async def cmd_reject(update: Update, context: Context) -> None:
    """/reject N reason."""
    await _one_with_text(
        update, context, "reject", lambda c: c.services.reject(c.actor, c.ids[0], c.text)
    )


async def cmd_note(update: Update, context: Context) -> None:
    """/note N text."""
    await _one_with_text(
        update, context, "note", lambda c: c.services.note(c.actor, c.ids[0], c.text)
    )


async def cmd_clarify(update: Update, context: Context) -> None:
    """/clarify N question."""
    await _one_with_text(
        update, context, "clarify", lambda c: c.services.clarify(c.actor, c.ids[0], c.text)
    )


async def cmd_reopen(update: Update, context: Context) -> None:
    """/reopen N [reason]."""
    call = await _call(update, context)
    if call is None:
        return
    if len(call.ids) != 1:
        await call.usage("reopen")
        return
    await call.answer(await call.services.reopen(call.actor, call.ids[0], call.text))


async def cmd_assign(update: Update, context: Context) -> None:
    """/assign N @user."""
    call = await _call(update, context)
    if call is None:
        return
    try:
        if len(call.ids) != 1 or len(call.rest) != 1:
            raise ValueError
        username = parse_username(call.rest[0])
    except ValueError:
        await call.usage("assign")
        return
    await call.answer(await call.services.assign(call.actor, call.ids[0], username))


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
