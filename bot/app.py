"""Wiring: build the PTB application, open resources, run the confirm-after-commit loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    ExtBot,
)

from bot.clock import Clock
from bot.config import Settings
from bot.domain.roster import Roster
from bot.jobs import schedule_jobs
from bot.rendering import Renderer
from bot.scheduler import Timer
from bot.sender import Limits, Sender
from bot.services import ServiceConfig, Services
from storage import repository as repo
from storage.db import Database, StorageError

log = logging.getLogger(__name__)


SEND_GRACE = 5.0  # seconds a stop waits for messages in flight to be answered and recorded


class StorageFailure(Exception):
    """The database refused a write: the update must not be confirmed."""


@dataclass
class BotData:
    """Typed bot_data: the resources opened in post_init."""

    services_: Services | None = None
    renderer_: Renderer | None = None
    sender_: Sender | None = None
    timer_: Timer | None = None
    storage_error: BaseException | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # calls to Telegram that must wait until the update's effect is committed
    pending_answers: list[tuple[CallbackQuery, str | None, bool]] = field(default_factory=list)

    def answer_later(self, query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        """Answer a button press once the press's effect is committed: the toast never
        claims what a failed write undid, and the database is not held during the call."""
        self.pending_answers.append((query, text, alert))

    @property
    def services(self) -> Services:
        """The use cases (set in post_init)."""
        if self.services_ is None:
            raise RuntimeError("application not initialised")
        return self.services_

    @property
    def renderer(self) -> Renderer:
        """Rendering of answers (set in post_init)."""
        if self.renderer_ is None:
            raise RuntimeError("application not initialised")
        return self.renderer_


class Context(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The handlers' context type."""


LiaisonApp = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, Any]


@dataclass
class Runtime:
    """What build_application needs besides the settings."""

    settings: Settings
    roster: Roster
    clock: Clock
    limits: Limits = field(default_factory=Limits)
    poll_timeout: int = 25


def build_application(runtime: Runtime) -> LiaisonApp:
    """The PTB application: our own update loop (no Updater), typed context, rate limiter."""
    from handlers import register_handlers

    settings = runtime.settings
    lim = runtime.limits
    app: LiaisonApp = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .updater(None)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=30,
                overall_time_period=1,
                group_max_rate=lim.group_messages,
                group_time_period=lim.group_window,
                max_retries=0,  # the outbox retries, durably
            )
        )
        .connect_timeout(10)
        .read_timeout(runtime.poll_timeout + 10)
        .write_timeout(20)
        .post_init(_post_init(runtime))
        .post_shutdown(_post_shutdown)
        .build()
    )
    register_handlers(app, settings)
    return app


def _post_init(runtime: Runtime) -> Any:
    async def post_init(app: LiaisonApp) -> None:
        s = runtime.settings
        db = await Database.open(s.database, writer=True)
        config = ServiceConfig(
            chat_id=s.liaison_chat,
            supervisor_chat_id=s.supervisor_chat_id,
            policy=s.policy,
            zone=s.zone,
            language=s.language,
            evidence_retention=s.evidence_retention,
            digest_at=s.digest_at,
        )
        services = Services(db, runtime.clock, runtime.roster, config)
        renderer = Renderer(services)
        sender = Sender(app.bot, services, renderer, runtime.limits)
        timer = Timer(services)
        services.set_listeners(sender.wake, timer.wake)
        data = app.bot_data
        data.services_, data.renderer_, data.sender_, data.timer_ = (
            services,
            renderer,
            sender,
            timer,
        )

    return post_init


async def _post_shutdown(app: LiaisonApp) -> None:
    data = app.bot_data
    if app.job_queue is not None and app.job_queue.scheduler.running:
        await app.job_queue.stop()  # lets a running job finish, before the database closes
    if data.sender_ is not None:
        await data.sender_.finish(SEND_GRACE)
    for task in data.tasks:
        task.cancel()
    await asyncio.gather(*data.tasks, return_exceptions=True)
    data.tasks.clear()
    if data.services_ is not None:
        await data.services_.db.close()


async def _check_privacy_quietly(app: LiaisonApp) -> None:
    try:
        await check_privacy(app)
    except (TelegramError, StorageError) as exc:
        log.warning("could not check the bot's privacy mode: %s", exc)


async def check_privacy(app: LiaisonApp) -> bool:
    """Warn (log and chat) when the bot cannot see plain messages in groups."""
    me = app.bot.bot  # getMe's answer, fetched by initialize()
    if me.can_read_all_group_messages:
        return True
    services = app.bot_data.services
    try:
        member = await app.bot.get_chat_member(services.config.chat_id, me.id)
        if member.status == "administrator":
            return True
    except TelegramError as exc:
        log.warning("could not check the bot's status in the liaison chat: %s", exc)
    log.warning(
        "privacy mode is on: the bot cannot read forwards in the liaison chat. Fix: BotFather "
        "/setprivacy -> Disable (or make the bot an admin), then remove and re-add it."
    )
    await services.say(services.config.chat_id, "privacy_warning")
    return False


async def poll(app: LiaisonApp, *, poll_seconds: int = 25) -> None:
    """Fetch updates; process each; confirm (next offset) only after its effect is committed."""
    data = app.bot_data
    db = data.services.db
    async with db.read() as conn:
        stored = await repo.find_meta(conn, "last_update_id")
    last = int(stored) if stored else 0
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
            if not isinstance(update_id, int) or update_id == last:
                continue  # delivered again: its effect is already committed
            if update_id < last:
                # not a re-delivery (the offset confirmed it): Telegram starts a new, random
                # sequence after a week without updates, and a lower id is a new update
                log.warning(
                    "update ids restarted at %d (the last was %d): Telegram renumbers them "
                    "after a week without updates",
                    update_id,
                    last,
                )
            try:
                update = Update.de_json(data, app.bot)
            except Exception:  # a malformed update must not block every later one
                log.warning("skipping malformed update %s", update_id, exc_info=True)
                await _mark_handled(db, update_id)
            else:
                await process_durably(app, update)
            last = update_id


async def process_durably(app: LiaisonApp, update: Update) -> None:
    """Run the handlers for one update; a storage failure is retried, never confirmed."""
    data = app.bot_data
    db = data.services.db
    delay = 0.5
    for attempt in range(12):
        data.storage_error = None
        data.pending_answers.clear()  # a retried update answers again, once
        try:
            # one transaction for all the update's writes and its id: a crash part-way
            # leaves the update unhandled, so it is delivered and handled again
            async with db.update_transaction(update.update_id):
                await app.process_update(update)
                if data.storage_error is not None:
                    raise _RollBack
        except _RollBack:
            pass
        except StorageError as exc:  # BEGIN, the update's mark or COMMIT failed
            data.storage_error = exc
        if data.storage_error is None:
            if update.callback_query is not None and not data.pending_answers:
                data.answer_later(update.callback_query, None)  # end the button's spinner
            await _send_answers(data)
            return
        log.error(
            "database write failed for update %s (attempt %d): %s",
            update.update_id,
            attempt + 1,
            data.storage_error,
        )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
    raise StorageFailure(f"database unavailable: {data.storage_error}")


async def _send_answers(data: BotData) -> None:
    answers, data.pending_answers = data.pending_answers, []
    for query, text, alert in answers:
        try:
            await query.answer(text, show_alert=alert)
        except TelegramError as exc:  # too old, or Telegram unreachable: the press is done
            log.info("button answer not delivered: %s", exc)


class _RollBack(Exception):
    """A handler's write failed: undo everything this attempt wrote."""


async def _mark_handled(db: Database, update_id: int) -> None:
    """Remember an update that no handler can read (malformed) as handled."""
    async with db.read() as conn:
        marked = await repo.find_meta(conn, "last_update_id")
    if marked is not None and int(marked) == update_id:
        return
    async with db.update_transaction(update_id):
        pass  # the transaction itself records the update id


async def on_error(update: object, context: Context) -> None:
    """Log handler errors; storage errors make the update be retried (see process_durably)."""
    error = context.error
    if isinstance(error, StorageError | OSError):
        context.bot_data.storage_error = error
        return
    log.error("error while handling an update", exc_info=error)


async def serve(app: LiaisonApp, *, poll_timeout: int = 25, check: bool = True) -> None:
    """Run everything until cancelled: the poll loop, the sender and the timer."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        data = app.bot_data
        if data.sender_ is None or data.timer_ is None:
            raise RuntimeError("post_init did not run")
        await app.bot.delete_webhook()
        loop = asyncio.get_running_loop()
        data.tasks.append(loop.create_task(data.sender_.run(), name="sender"))
        data.tasks.append(loop.create_task(data.timer_.run(), name="timer"))
        await schedule_jobs(app).start()  # the calendar jobs; each first catches up
        if check:
            # in the background: the first getUpdates need not wait for two more calls
            data.tasks.append(loop.create_task(_check_privacy_quietly(app), name="privacy"))
        await poll(app, poll_seconds=poll_timeout)
    finally:
        with contextlib.suppress(Exception):
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
        await app.shutdown()
