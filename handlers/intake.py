"""Links and forwards in the liaison chat become tickets; replies answer clarifications."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from telegram import Message, MessageEntity, MessageOriginChannel, Update

from bot.domain.categories import category_tags
from bot.domain.links import Link, channel_post_link, extract_links, has_foreign_url, is_urgent
from bot.services import EvidenceIn, Intake
from handlers.common import topic_of

if TYPE_CHECKING:
    from bot.context import Context

URL_KINDS = (MessageEntity.URL, MessageEntity.TEXT_LINK)


def entity_urls(message: Message) -> list[str]:
    """URLs Telegram marked, in text and caption (slicing in UTF-16 is PTB's job).

    An entity whose bounds are broken (past the end, inside a surrogate pair) is skipped:
    the raw text is scanned for links anyway, so the report is not lost.
    """
    urls: list[str] = []
    sources = (
        (message.entities, message.parse_entity),
        (message.caption_entities, message.parse_caption_entity),
    )
    for entities, parse in sources:
        for entity in entities:
            if entity.type == MessageEntity.TEXT_LINK and entity.url:
                urls.append(entity.url)
            elif entity.type == MessageEntity.URL:
                try:
                    urls.append(parse(entity))
                except (UnicodeDecodeError, IndexError, RuntimeError):
                    continue
    return urls


def origin_of(message: Message) -> tuple[Link | None, EvidenceIn, bool]:
    """The forwarded post's link (channel origins only), evidence, and whether it is a forward."""
    text = message.text or message.caption
    media = _media_ids(message)
    origin = message.forward_origin
    if origin is None and message.external_reply is not None:
        origin = message.external_reply.origin
    if origin is None:
        return None, EvidenceIn(text=text, media=media), False
    link: Link | None = None
    origin_chat_id: int | None = None
    origin_message_id: int | None = None
    if isinstance(origin, MessageOriginChannel):
        origin_chat_id = origin.chat.id
        origin_message_id = origin.message_id
        try:
            link = channel_post_link(origin.chat.username, origin.chat.id, origin.message_id)
        except ValueError:
            link = None
    described = origin.to_json()
    evidence = EvidenceIn(
        text=text,
        media=media,
        origin=described,
        origin_chat_id=origin_chat_id,
        origin_message_id=origin_message_id,
        origin_date=origin.date.astimezone(UTC) if origin.date else None,
    )
    return link, evidence, message.forward_origin is not None


def _media_ids(message: Message) -> tuple[str, ...]:
    ids: list[str] = []
    if message.photo:
        ids.append(message.photo[-1].file_unique_id)
    for item in (
        message.video,
        message.document,
        message.animation,
        message.audio,
        message.voice,
        message.video_note,
        message.sticker,
    ):
        if item is not None:
            ids.append(item.file_unique_id)
    return tuple(ids)


def build_intake(message: Message) -> Intake:
    """Everything the report service needs from one message."""
    text = "\n".join(t for t in (message.text, message.caption) if t)
    marked = entity_urls(message)
    forward_link, evidence, forwarded = origin_of(message)
    links = extract_links(text, marked)
    if forward_link is not None and all(forward_link.key != link.key for link in links):
        links.insert(0, forward_link)
    user = message.from_user
    return Intake(
        chat_id=message.chat_id,
        message_id=message.message_id,
        reporter_id=user.id if user else 0,
        links=links,
        forwarded_without_link=forwarded and not links,
        urgent=is_urgent(text),
        tags=tuple(category_tags(text)),
        foreign_url=not links and has_foreign_url(text, marked),
        evidence=evidence,
        album=message.media_group_id,
        thread=topic_of(message),
    )


async def on_message(update: Update, context: Context) -> None:
    """A message that is not a command: a report in the liaison chat, elsewhere perhaps an
    answer to a clarification question."""
    message = update.message
    if message is None:
        return
    if context.bot_data.services.is_liaison_chat(message.chat_id):
        await on_report(update, context)
    elif message.reply_to_message is not None:
        await on_reply(update, context)


def from_reporter(message: Message) -> bool:
    """Written (or forwarded) by a person: not a bot (ourselves included; an anonymous group
    admin still reports), not Telegram copying a linked channel's post into the group."""
    if message.from_user is None or message.is_automatic_forward:
        return False
    anonymous_admin = message.sender_chat is not None and message.sender_chat.id == message.chat_id
    return anonymous_admin or not message.from_user.is_bot


async def on_report(update: Update, context: Context) -> None:
    """A message in the liaison chat: links and forwards become tickets; chatter is ignored."""
    message = update.message
    if message is None or message.from_user is None or not from_reporter(message):
        return
    services = context.bot_data.services
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == context.bot.id:
        answered = await services.answer_clarification(
            message.from_user.id,
            message.chat_id,
            reply.message_id,
            message.text or message.caption or "",
        )
        if answered:
            return
    await services.report(build_intake(message))


async def on_edit(update: Update, context: Context) -> None:
    """A report edited in the liaison chat: links it gained become tickets."""
    message = update.edited_message
    if message is None or not from_reporter(message):
        return
    services = context.bot_data.services
    if services.is_liaison_chat(message.chat_id):
        await services.report_edited(build_intake(message))


async def on_reply(update: Update, context: Context) -> None:
    """Outside the liaison chat, a reply to the bot's clarification question still counts."""
    message = update.message
    if message is None or message.from_user is None or message.reply_to_message is None:
        return
    await context.bot_data.services.answer_clarification(
        message.from_user.id,
        message.chat_id,
        message.reply_to_message.message_id,
        message.text or message.caption or "",
    )
