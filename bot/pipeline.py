"""Confirm only after commit: every update, from any source, goes through `handle_durably`.

An update source (long polling here; bot/webhook.py answers its HTTP request the same way)
hands each update to `handle_durably`, which runs the handlers inside one storage
transaction that also records the update's id: the effect and the "handled" mark commit
together or not at all. Only then is the update confirmed to Telegram (the next
getUpdates offset, or the webhook's 200). A storage failure rolls the update back and
tries it again; it is never confirmed unhandled. A handler that fails for another reason
(a bug) has its update's writes undone, and the update is recorded as handled without them:
half an effect is never committed, and one bad update cannot block every later one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, TelegramError

from bot.context import Context, LiaisonApp, UpdateScope
from bot.sender import keyboard
from storage import repository as repo
from storage.db import Database, StorageError

log = logging.getLogger(__name__)

ATTEMPTS = 12  # tries of one update before the bot stops (the database is gone)


class StorageFailure(Exception):
    """The database refused an update's writes for good: the update must not be confirmed."""


class _RollBack(Exception):
    """A handler's write failed: undo everything this attempt wrote."""


async def handle_durably(app: LiaisonApp, update: Update, *, attempts: int = ATTEMPTS) -> None:
    """Run the handlers for one update in one transaction; retried on storage failures,
    and raises StorageFailure (never returns) when the database stays unavailable (after
    ``attempts`` tries: a webhook tries fewer, Telegram delivers the update again)."""
    data = app.bot_data
    db = data.services.db
    delay = 0.5
    for attempt in range(attempts):
        scope = UpdateScope(update.update_id)  # a retried update answers again, once
        data.scopes[update.update_id] = scope
        try:
            # one transaction for all the update's writes and its id: a crash part-way
            # leaves the update unhandled, so it is delivered and handled again
            async with db.update_transaction(update.update_id):
                await app.process_update(update)
                if scope.storage_error is not None or scope.failure is not None:
                    raise _RollBack
        except _RollBack:
            pass
        except StorageError as exc:  # BEGIN, the update's mark or COMMIT failed
            scope.storage_error = exc
        finally:
            data.scopes.pop(update.update_id, None)
        if scope.failure is not None and scope.storage_error is None:
            scope.answers.clear()  # they would claim what was undone
            scope.keyboards.clear()
            try:
                await _mark_handled(db, update.update_id)
            except StorageError as exc:  # tried again, failure and all
                scope.storage_error = exc
        if scope.storage_error is None:
            if update.callback_query is not None and not scope.answers:
                scope.answer_later(update.callback_query, None)  # end the button's spinner
            await _send_answers(scope)
            await _swap_keyboards(scope)
            if data.health_ is not None:
                data.health_.update_handled()
            return
        log.error(
            "database write failed for update %s (attempt %d): %s",
            update.update_id,
            attempt + 1,
            scope.storage_error,
        )
        if attempt + 1 == attempts:
            break
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
    raise StorageFailure(f"database unavailable: {scope.storage_error}")


async def _send_answers(scope: UpdateScope) -> None:
    for query, text, alert in scope.answers:
        try:
            await query.answer(text, show_alert=alert)
        except TelegramError as exc:  # too old, or Telegram unreachable: the press is done
            log.info("button answer not delivered: %s", exc)
    scope.answers.clear()


async def _swap_keyboards(scope: UpdateScope) -> None:
    for query, buttons in scope.keyboards:
        try:
            await query.edit_message_reply_markup(keyboard(buttons))
        except TelegramError as exc:  # not modified, deleted, or Telegram unreachable
            log.info("button swap not delivered: %s", exc)
    scope.keyboards.clear()


async def on_error(update: object, context: Context) -> None:
    """Log handler errors; storage errors make the update be retried (see handle_durably)."""
    error = context.error
    if isinstance(error, StorageError | OSError):
        context.scope.storage_error = error
        return
    context.scope.failure = error
    log.error("error while handling an update: its writes are undone", exc_info=error)


async def handle_raw(app: LiaisonApp, raw: Any, *, attempts: int = ATTEMPTS) -> None:
    """One update as Telegram sent it (JSON): a malformed one is recorded as handled, so it
    cannot block every later update."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int):
        return
    try:
        update = Update.de_json(raw, app.bot)
    except Exception:  # a malformed update must not block every later one
        log.warning("skipping malformed update %s", update_id, exc_info=True)
        await _mark_handled(app.bot_data.services.db, update_id)
        return
    await handle_durably(app, update, attempts=attempts)


def already_handled(update_id: int, last: int) -> bool:
    """Whether an update is a re-delivery of the last one whose effect is committed.

    Telegram delivers updates in order (getUpdates; a webhook with max_connections=1) and
    again only until confirmed, so a re-delivered update is the last one handled. A lower
    id is not a re-delivery: Telegram starts a new, random sequence after a week without
    updates, and a lower id is a new update (logged)."""
    if update_id == last:
        return True
    if update_id < last:
        log.warning(
            "update ids restarted at %d (the last was %d): Telegram renumbers them "
            "after a week without updates",
            update_id,
            last,
        )
    return False


async def _mark_handled(db: Database, update_id: int) -> None:
    """Remember an update that no handler can read (malformed) as handled."""
    async with db.read() as conn:
        marked = await repo.find_meta(conn, "last_update_id")
    if marked is not None and int(marked) == update_id:
        return
    async with db.update_transaction(update_id):
        pass  # the transaction itself records the update id


async def last_handled(db: Database) -> int:
    """The id of the latest update whose effect is committed (0: none yet)."""
    async with db.read() as conn:
        stored = await repo.find_meta(conn, "last_update_id")
    return int(stored) if stored else 0


# ---- the long-polling source ---------------------------------------------------------------


async def poll(app: LiaisonApp, *, poll_seconds: int = 25) -> None:
    """Fetch updates; handle each; confirm (next offset) only after its effect is committed."""
    last = await last_handled(app.bot_data.services.db)
    backoff = 1.0
    while True:
        try:
            raw = await app.bot.do_api_request(
                # Bot API methods are case-insensitive; the lower-case name fetches the raw
                # JSON, so one malformed update cannot make the whole batch unreadable
                "getupdates",
                api_kwargs={
                    "offset": last + 1 if last else 0,
                    "timeout": poll_seconds,
                    "allowed_updates": list(Update.ALL_TYPES),
                },
                read_timeout=poll_seconds + 10,
            )
            backoff = 1.0
            if app.bot_data.health_ is not None:
                app.bot_data.health_.poll_ok()
        except InvalidToken:
            raise
        except Conflict:
            log.error("another instance is polling with this token; waiting")
            await asyncio.sleep(backoff := min(backoff * 2, 30.0))
            continue
        except TelegramError as exc:
            log.warning("getUpdates failed (%s); retrying in %.0fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        for data in raw if isinstance(raw, list) else []:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int) or already_handled(update_id, last):
                continue  # delivered again: its effect is already committed
            await handle_raw(app, data)
            last = update_id
