"""Orders: a `.txt`/`.csv`/`.xlsx` document in the liaison chat; `/order N`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import BadRequest, TelegramError

from bot.domain.commands import parse_ids
from bot.domain.orders import MAX_BYTES, Refusal, is_order_name
from bot.notices import OrderProgress
from bot.services import OrderIn
from handlers import intake
from handlers.common import replying, sender_of, topic_of, usage

if TYPE_CHECKING:
    from bot.context import Context


async def on_document(update: Update, context: Context) -> None:
    """A document: in the liaison chat, with an order's name, an order; else a message."""
    message = update.message
    if message is None or message.document is None:
        return
    services = context.bot_data.services
    document = message.document
    if (
        not services.is_liaison_chat(message.chat_id)
        or not intake.from_reporter(message)
        or not is_order_name(document.file_name)
    ):
        await intake.on_message(update, context)
        return
    thread = topic_of(message)
    if document.file_size is not None and document.file_size > MAX_BYTES:
        await services.refuse_order(message.chat_id, message.message_id, Refusal.TOO_BIG, thread)
        return
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        too_big = "too big" in exc.message.lower()
        reason = Refusal.TOO_BIG if too_big else Refusal.UNAVAILABLE
        await services.refuse_order(message.chat_id, message.message_id, reason, thread)
        return
    except TelegramError:  # unreachable for now: say so rather than retry the update forever
        await services.refuse_order(
            message.chat_id, message.message_id, Refusal.UNAVAILABLE, thread
        )
        return
    user = message.from_user
    await services.take_order(
        OrderIn(
            chat_id=message.chat_id,
            message_id=message.message_id,
            reporter_id=user.id if user else 0,
            file_name=document.file_name or "",
            data=data,
            caption=message.caption or "",
            thread=thread,
        )
    )


async def cmd_order(update: Update, context: Context) -> None:
    """/order N — an order's progress (anyone in the liaison chat)."""
    got = sender_of(update, context)
    if got is None:
        return
    message, _actor, services = got
    parsed = parse_ids(context.args or [])
    if len(parsed.ids) != 1 or parsed.rest:
        await usage(message, services, "order")
        return
    await services.say(message.chat_id, OrderProgress(order=parsed.ids[0], **replying(message)))
