"""`python -m bench.echo`: the reference point, a minimal PTB echo bot using run_polling.

Reads BENCH_ECHO_TOKEN and BENCH_ECHO_BASE_URL; answers every text with the same text in
the same chat; stops on SIGTERM (run_polling's default stop signals).
"""

from __future__ import annotations

import logging
import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say it back."""
    message = update.effective_message
    if message is not None and message.text:
        await context.bot.send_message(message.chat_id, message.text)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app = (
        Application.builder()
        .token(os.environ["BENCH_ECHO_TOKEN"])
        .base_url(os.environ["BENCH_ECHO_BASE_URL"])
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
