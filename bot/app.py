"""Wiring: build the PTB application, open resources, run the confirm-after-commit loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes

from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.context import BotData, Context, LiaisonApp
from bot.domain.desk import Desk
from bot.domain.roster import Roster
from bot.health import Health, HealthServer, ObservedRequest, ObservedTimer, sd_notify
from bot.jobs import schedule_jobs
from bot.notices import PrivacyWarning
from bot.pipeline import on_error, poll
from bot.rendering import Renderer
from bot.scheduler import Timer
from bot.sender import Limits, Sender
from bot.services import Services
from bot.webhook import run_webhook
from storage.db import Database, StorageError

log = logging.getLogger(__name__)


SEND_GRACE = 5.0  # seconds a stop waits for messages in flight to be answered and recorded


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
    health = Health(runtime.clock, timedelta(seconds=runtime.poll_timeout))
    app: LiaisonApp = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
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
        .request(
            # every Telegram call's outcome is counted here (errors by code, last success)
            ObservedRequest(
                health,
                connection_pool_size=256,
                connect_timeout=10,
                read_timeout=runtime.poll_timeout + 10,
                write_timeout=20,
                media_write_timeout=20,
            )
        )
        .post_init(_post_init(runtime))
        .post_shutdown(_post_shutdown)
        .build()
    )
    health.listen = settings.http_listen
    app.bot_data.health_ = health
    app.bot_data.settings_ = settings
    register_handlers(app)
    app.add_error_handler(on_error)
    return app


def desk_of(settings: Settings, roster: Roster) -> Desk:
    """The desk the settings describe."""
    return Desk(
        chat_id=settings.liaison_chat,
        supervisor_chat_id=settings.supervisor_chat_id,
        roster=roster,
        policy=settings.policy,
        zone=settings.zone,
        language=settings.language,
        evidence_retention=settings.evidence_retention,
        digest_at=settings.digest_at,
        ack_reaction=settings.ack_reaction.strip() or None,
        notice_topic=settings.notice_topic,
    )


def _post_init(runtime: Runtime) -> Any:
    async def post_init(app: LiaisonApp) -> None:
        s = runtime.settings
        db = await Database.open(s.database, writer=True)
        services = Services(db, runtime.clock, desk_of(s, runtime.roster))
        missing = await services.categories_missing()
        if missing:
            await db.close()
            raise ConfigError(
                "LIAISON_POLICY: tickets of the database are in categories the file lacks: "
                + ", ".join(missing)
            )
        renderer = Renderer(services)
        sender = Sender(app.bot, services, renderer, runtime.limits)
        health = app.bot_data.health_
        timer = ObservedTimer(services, health) if health is not None else Timer(services)
        if health is not None:
            health.services = services
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


async def _watchdog(app: LiaisonApp) -> None:
    """Ping systemd's watchdog from the event loop while polling makes progress: a blocked
    loop, or a poll loop stuck without a successful getUpdates, stops the pings and systemd
    restarts the bot."""
    usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    health = app.bot_data.health_
    if usec <= 0 or health is None:
        return
    while True:
        if health.making_progress():
            sd_notify("WATCHDOG=1")
        await asyncio.sleep(usec / 1e6 / 3)


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
        member = await app.bot.get_chat_member(services.desk.chat_id, me.id)
        if member.status == "administrator":
            return True
    except TelegramError as exc:
        log.warning("could not check the bot's status in the liaison chat: %s", exc)
    log.warning(
        "privacy mode is on: the bot cannot read forwards in the liaison chat. Fix: BotFather "
        "/setprivacy -> Disable (or make the bot an admin), then remove and re-add it."
    )
    await services.say(services.desk.chat_id, PrivacyWarning())
    return False


async def serve(app: LiaisonApp, *, poll_timeout: int = 25, check: bool = True) -> None:
    """Run everything until cancelled: the poll loop (webhook mode: the webhook server,
    see bot/webhook.py), the sender, the timer and (unless
    LIAISON_HTTP_LISTEN is empty) the health and metrics endpoint."""
    await app.initialize()
    server: HealthServer | None = None
    try:
        if app.post_init is not None:
            await app.post_init(app)
        data = app.bot_data
        if data.sender_ is None or data.timer_ is None:
            raise RuntimeError("post_init did not run")
        health = data.health_
        if health is not None and health.listen:
            server = health.server = HealthServer(health, health.listen)
            try:
                await server.start()
            except OSError as exc:  # taken, or not an address of this machine
                raise ConfigError(f"LIAISON_HTTP_LISTEN {health.listen}: {exc}") from None
        settings = data.settings_
        webhook = settings is not None and settings.webhook_url is not None
        if not webhook:
            # polling: a webhook left from webhook mode would make getUpdates answer 409;
            # its pending updates are kept and fetched by getUpdates
            await app.bot.delete_webhook(drop_pending_updates=False)
        loop = asyncio.get_running_loop()
        data.tasks.append(loop.create_task(data.sender_.run(), name="sender"))
        data.tasks.append(loop.create_task(data.timer_.run(), name="timer"))
        await schedule_jobs(app).start()  # the calendar jobs; each first catches up
        if check:
            # in the background: the first getUpdates need not wait for two more calls
            data.tasks.append(loop.create_task(_check_privacy_quietly(app), name="privacy"))
        if sd_notify("READY=1") and data.health_ is not None:
            data.tasks.append(loop.create_task(_watchdog(app), name="watchdog"))
        if settings is not None and settings.webhook_url is not None:
            secret = settings.webhook_secret
            if secret is None:
                raise ConfigError(
                    "LIAISON_WEBHOOK_SECRET is required in webhook mode "
                    "(LIAISON_WEBHOOK_URL is set)"
                )
            await run_webhook(
                app,
                url=settings.webhook_url,
                listen=settings.webhook_listen,
                secret=secret.get_secret_value(),
                check_seconds=poll_timeout,
            )
        else:
            await poll(app, poll_seconds=poll_timeout)
    finally:
        if server is not None:
            with contextlib.suppress(Exception):
                await server.stop()
        with contextlib.suppress(Exception):
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
        await app.shutdown()
