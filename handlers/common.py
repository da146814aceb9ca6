"""What several handlers share: who sent a command, its targets, the one-line answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from telegram import Message, Update

from bot.domain.commands import parse_ids
from bot.notices import Feedback, FeedbackReply, Usage
from bot.services import Services

if TYPE_CHECKING:
    from bot.context import Context


def topic_of(message: Message) -> int | None:
    """The forum topic a message was written in (None: General, or not a forum)."""
    return message.message_thread_id if message.is_topic_message else None


class Reply(TypedDict):
    """A notice's fields that answer a message."""

    reply_to: int
    thread: int | None


def replying(message: Message) -> Reply:
    """A notice's fields that answer this message: a reply, in its topic."""
    return {"reply_to": message.message_id, "thread": topic_of(message)}


def sender_of(update: Update, context: Context) -> tuple[Message, int, Services] | None:
    """A command's message, its sender and the use cases; None for anything else."""
    message = update.message
    if message is None or message.from_user is None:
        return None
    return message, message.from_user.id, context.bot_data.services


async def targets(message: Message, services: Services, ids: tuple[int, ...]) -> list[int]:
    """Ticket numbers from the arguments, else from the card (or report) being replied to."""
    if ids:
        return list(ids)
    reply = message.reply_to_message
    if reply is None:
        return []
    found = await services.tickets_on_message(message.chat_id, reply.message_id)
    return found or await services.ticket_for_report(message.chat_id, reply.message_id)


async def answer(message: Message, services: Services, feedback: list[Feedback]) -> None:
    """One reply with what happened, leaving out what the chat already sees (cards, notices)."""
    items = tuple(f for f in feedback if not (f.changed and f.shown_in == message.chat_id))
    if items:
        await services.say(message.chat_id, FeedbackReply(items=items, **replying(message)))


async def usage(message: Message, services: Services, cmd: str) -> None:
    """The command's one-line usage hint, as a reply."""
    await services.say(message.chat_id, Usage(cmd=cmd, **replying(message)))


@dataclass(frozen=True)
class Call:
    """A command about tickets: who sent it, its ticket numbers (or the card replied to),
    the rest of its arguments."""

    message: Message
    actor: int
    services: Services
    ids: list[int]
    rest: tuple[str, ...]
    text: str

    async def usage(self, cmd: str) -> None:
        """Answer with the command's usage hint."""
        await usage(self.message, self.services, cmd)

    async def answer(self, feedback: list[Feedback]) -> None:
        """Answer with what the command did."""
        await answer(self.message, self.services, feedback)


async def parse_call(update: Update, context: Context) -> Call | None:
    """The command in this update, with its targets; None when it is not one."""
    got = sender_of(update, context)
    if got is None:
        return None
    message, actor, services = got
    parsed = parse_ids(context.args or [])
    ids = await targets(message, services, parsed.ids)
    return Call(message, actor, services, ids, parsed.rest, parsed.text)
