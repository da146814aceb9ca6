"""The gate (group -1): foreign chats are left, strangers in private get one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import ChatMember, ChatMemberRestricted, Update
from telegram.ext import ApplicationHandlerStop

from bot.notices import Answer, Feedback, NotServed
from handlers.common import answer

if TYPE_CHECKING:
    from bot.context import Context


async def gate(update: Update, context: Context) -> None:
    """Stop every update from chats the bot does not serve."""
    chat = update.effective_chat
    if chat is None:
        if update.callback_query is None and update.message is None:
            return  # inline queries etc. carry no chat; nothing handles them anyway
        raise ApplicationHandlerStop
    user = update.effective_user
    services = context.bot_data.services
    if update.my_chat_member is not None:
        return  # handled by on_my_chat_member, which decides about leaving
    message = update.effective_message
    if message is not None and services.is_own_chat(message.migrate_from_chat_id):
        # our group became a supergroup with a new id: stay, and read reports there too
        await services.chat_migrated(message.migrate_from_chat_id or 0, chat.id)
        raise ApplicationHandlerStop
    if (
        chat.id == services.desk.supervisor_chat_id
        and user is not None
        and not services.is_rostered(user.id)
    ):
        # reporters are members of the liaison chat; here, only rostered people act
        if update.callback_query is not None:
            context.scope.answer_later(
                update.callback_query, context.bot_data.renderer.t("refused")
            )
        elif message is not None and (message.text or "").startswith("/"):
            await answer(message, services, [Feedback(Answer.REFUSED)])
        raise ApplicationHandlerStop
    if services.chat_allowed(chat.id, chat.type, user.id if user else None):
        if chat.type == "private" and user is not None and update.message is not None:
            await services.mark_dm(user.id, True)
        return
    if chat.type == "private":
        if update.message is not None:
            await services.say(chat.id, NotServed())
        elif update.callback_query is not None:
            context.scope.answer_later(
                update.callback_query, context.bot_data.renderer.t("not_served")[:200]
            )
    elif chat.type in ("group", "supergroup"):
        await services.leave(chat.id)
    raise ApplicationHandlerStop


async def on_members(update: Update, context: Context) -> None:
    """Someone joined or left the liaison chat: rostered people's presence is remembered
    (an on-call moderator who left it can only be reached by direct message)."""
    services = context.bot_data.services
    chat = update.effective_chat
    if chat is None or not services.is_liaison_chat(chat.id):
        return  # presence elsewhere (the supervisor chat) does not make a mention reach them
    message = update.message
    change = update.chat_member
    if message is not None and message.left_chat_member is not None:
        await services.mark_in_chat([message.left_chat_member.id], False)
    elif message is not None and message.new_chat_members:
        await services.mark_in_chat([u.id for u in message.new_chat_members], True)
    elif change is not None:
        member = change.new_chat_member
        present = member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER)
        if isinstance(member, ChatMemberRestricted):
            present = member.is_member  # restricted, and possibly no longer in the chat
        await services.mark_in_chat([member.user.id], present)


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Added to a group: stay in the liaison and supervisor chats, leave any other."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    services = context.bot_data.services
    status = change.new_chat_member.status
    joined = status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.RESTRICTED)
    if not joined or chat.type == "private" or chat.type == "channel":
        return
    if chat.id not in (services.desk.chat_id, services.desk.supervisor_chat_id):
        await services.leave(chat.id)
