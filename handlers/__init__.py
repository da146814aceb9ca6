"""Telegram in and out: the only place add_handler is called."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    MessageReactionHandler,
    TypeHandler,
    filters,
)

from handlers import access, figures, intake, moderation, orders, queries

if TYPE_CHECKING:
    from bot.context import LiaisonApp


def register_handlers(app: LiaisonApp) -> None:
    """Register every handler: the gate first (group -1), then commands, buttons, reports."""
    app.add_handler(TypeHandler(Update, access.gate), group=-1)
    app.add_handler(ChatMemberHandler(access.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    commands = {
        "start": queries.cmd_start,
        "help": queries.cmd_help,
        "ticket": queries.cmd_ticket,
        "open": queries.cmd_open,
        "oncall": queries.cmd_oncall,
        "order": orders.cmd_order,
        "ack": moderation.cmd_ack,
        "done": moderation.cmd_done,
        "removed": moderation.cmd_done,
        "reject": moderation.cmd_reject,
        "note": moderation.cmd_note,
        "clarify": moderation.cmd_clarify,
        "reopen": moderation.cmd_reopen,
        "assign": moderation.cmd_assign,
        "category": moderation.cmd_category,
        "stats": figures.cmd_stats,
        "report": figures.cmd_report,
        "export": figures.cmd_export,
        "anchor": figures.cmd_anchor,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CallbackQueryHandler(moderation.on_button, pattern=moderation.BUTTON))
    app.add_handler(
        CallbackQueryHandler(moderation.on_category_button, pattern=moderation.CATEGORY_BUTTON)
    )
    app.add_handler(MessageReactionHandler(moderation.on_reaction))
    members = filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.LEFT_CHAT_MEMBER
    app.add_handler(MessageHandler(members, access.on_members))
    app.add_handler(ChatMemberHandler(access.on_members, ChatMemberHandler.CHAT_MEMBER))
    document = filters.UpdateType.MESSAGE & filters.Document.ALL & ~filters.COMMAND
    app.add_handler(MessageHandler(document, orders.on_document))  # before: the first wins
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, intake.on_message)
    )
    app.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & ~filters.COMMAND, intake.on_edit)
    )
