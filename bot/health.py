"""Health and metrics: `/healthz` and `/metrics` on the bot's own event loop.

One `Health` per application (its own Prometheus registry: several bots share a test
process). The pipeline tells it of each successful getUpdates and each handled update;
the HTTP layer (`ObservedRequest`) of every Telegram call's outcome; `ObservedTimer` of how
late escalation steps fire. What the database holds (tickets, the outbox) is read when
`/metrics` or `/healthz` is asked, so nothing is counted twice or drifts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.domain.tickets import Status, deadline_at, due_steps
from bot.scheduler import Timer
from storage import repository as repo
from storage.db import StorageError

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=5)  # a notification undelivered this long makes us unhealthy
PROBE_TIMEOUT = 3.0  # seconds the database may take to answer the health probe
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


@dataclass(frozen=True, slots=True)
class Backlog:
    """The outbox as the health check sees it."""

    pending: int
    oldest: datetime | None


class Health:
    """Progress the bot has made, and its Prometheus registry."""

    def __init__(self, clock: Clock, poll_period: timedelta) -> None:
        self.clock = clock
        self.poll_period = poll_period
        self.started_at = clock.now()
        self.last_poll_ok: datetime | None = None
        self.webhook = False  # webhook mode: deliveries and getWebhookInfo are the progress
        self.services: Services | None = None  # set in post_init
        self.listen = ""  # LIAISON_HTTP_LISTEN (empty: no endpoint)
        self.server: HealthServer | None = None  # while serving
        r = self.registry = CollectorRegistry()
        self.updates_handled = Counter(
            "liaison_updates_handled", "Updates whose effect is committed", registry=r
        )
        self.telegram_errors = Counter(
            "liaison_telegram_errors",
            "Failed Telegram calls by HTTP status (or timeout/network)",
            ["code", "method"],
            registry=r,
        )
        self.last_success = Gauge(
            "liaison_telegram_last_success_timestamp_seconds",
            "Unix time of the last successful Telegram call",
            registry=r,
        )
        self.last_poll = Gauge(
            "liaison_get_updates_last_success_timestamp_seconds",
            "Unix time of the last successful getUpdates",
            registry=r,
        )
        self.tickets = Gauge(
            "liaison_tickets", "Tickets by status and category", ["status", "category"], registry=r
        )
        self.overdue = Gauge(
            "liaison_tickets_overdue", "Open tickets past their deadline now", registry=r
        )
        self.backlog = Gauge(
            "liaison_outbox_backlog", "Notifications not yet delivered", registry=r
        )
        self.oldest = Gauge(
            "liaison_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification (0: none)",
            registry=r,
        )
        self.lateness = Histogram(
            "liaison_escalation_lateness_seconds",
            "How late escalation steps fired after falling due",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )

    # ---- hooks -------------------------------------------------------------------------

    def poll_ok(self) -> None:
        """A getUpdates call succeeded."""
        now = self.clock.now()
        self.last_poll_ok = now
        self.last_poll.set(now.timestamp())

    def delivery_ok(self) -> None:
        """A webhook delivery was answered (or getWebhookInfo succeeded): progress, like a
        successful getUpdates."""
        self.poll_ok()

    def update_handled(self) -> None:
        """An update's effect was committed."""
        self.updates_handled.inc()

    def telegram_ok(self) -> None:
        """A Telegram call answered 2xx."""
        self.last_success.set(self.clock.now().timestamp())

    def telegram_error(self, code: str, method: str) -> None:
        """A Telegram call failed."""
        self.telegram_errors.labels(code=code, method=method).inc()

    def making_progress(self) -> bool:
        """Whether a getUpdates (webhook mode: a delivery or getWebhookInfo) succeeded
        within the last 2 poll periods."""
        since = self.last_poll_ok or self.started_at
        return self.clock.now() - since <= 2 * self.poll_period

    # ---- reading the database ------------------------------------------------------------

    async def backlog_now(self) -> Backlog:
        """How many notifications wait and since when."""
        db = self._services().db
        async with db.read() as conn:
            [row] = await conn.execute_fetchall(
                "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
            )
        oldest = datetime.fromisoformat(row[1]) if row[1] else None
        return Backlog(int(row[0]), oldest)

    async def reasons(self) -> list[str]:
        """Why the bot is unhealthy now (empty: healthy)."""
        now = self.clock.now()
        found: list[str] = []
        since = self.last_poll_ok or self.started_at
        if not self.making_progress():
            what = "webhook delivery or getWebhookInfo" if self.webhook else "getUpdates"
            found.append(
                f"no successful {what} for {(now - since).total_seconds():.0f}s "
                f"(2 poll periods: {2 * self.poll_period.total_seconds():.0f}s)"
            )
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await self._probe_write()
                backlog = await self.backlog_now()
        except TimeoutError:
            found.append(f"database not writable: no answer within {PROBE_TIMEOUT:.0f}s")
            return found
        except StorageError as exc:
            found.append(f"database not writable: {exc}")
            return found
        if backlog.oldest is not None and now - backlog.oldest > STUCK_AFTER:
            age = (now - backlog.oldest).total_seconds()
            found.append(
                f"a notification undelivered for {age:.0f}s (over "
                f"{STUCK_AFTER.total_seconds() / 60:.0f} min; {backlog.pending} pending)"
            )
        return found

    async def _probe_write(self) -> None:
        """A real write, rolled back: in WAL mode BEGIN alone succeeds on a read-only file."""
        db = self._services().db
        async with db.read() as conn:  # the lock: no update transaction is open meanwhile
            [row] = await conn.execute_fetchall("PRAGMA user_version")
            try:
                await conn.execute("BEGIN IMMEDIATE")
                await conn.execute(f"PRAGMA user_version={int(row[0])}")
            finally:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")

    async def refresh(self) -> None:
        """Set the gauges that describe what the database holds."""
        services = self._services()
        now = self.clock.now()
        async with services.db.read() as conn:
            columns = {r[1] for r in await conn.execute_fetchall("PRAGMA table_info(tickets)")}
            category = "COALESCE(category, 'other')" if "category" in columns else "'other'"
            counts = await conn.execute_fetchall(
                f"SELECT status, {category}, COUNT(*) FROM tickets GROUP BY 1, 2"
            )
            open_tickets = await repo.list_open_tickets(conn)
        self.tickets.clear()
        for status in Status:
            self.tickets.labels(status=status.value, category="other").set(0)
        for status, cat, count in counts:
            self.tickets.labels(status=str(status), category=str(cat)).set(int(count))
        policy = services.desk.policy
        self.overdue.set(
            sum(1 for t in open_tickets if t.paused_at is None and deadline_at(t, policy) < now)
        )
        backlog = await self.backlog_now()
        self.backlog.set(backlog.pending)
        age = (now - backlog.oldest).total_seconds() if backlog.oldest is not None else 0.0
        self.oldest.set(max(0.0, age))

    def _services(self) -> Services:
        if self.services is None:
            raise StorageError("the database is not open yet")
        return self.services


class ObservedRequest(HTTPXRequest):
    """PTB's HTTP layer, telling `Health` the outcome of every Telegram call.

    At this layer every call is seen with its HTTP status, whichever part of the bot made
    it (the sender, the poll loop, button answers), so the sender needs no hook of its own.
    """

    def __init__(self, health: Health, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.health = health

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """See `HTTPXRequest.do_request`."""
        name = url.rsplit("/", 1)[-1].lower()  # the Bot API method, never the token
        try:
            code, payload = await super().do_request(url, method, *args, **kwargs)
        except TimedOut:
            self.health.telegram_error("timeout", name)
            raise
        except NetworkError:
            self.health.telegram_error("network", name)
            raise
        if 200 <= code < 300:
            self.health.telegram_ok()
        else:
            self.health.telegram_error(str(code), name)
        return code, payload


class ObservedTimer(Timer):
    """The escalation timer, observing how late each step fires after its due instant."""

    def __init__(self, services: Services, health: Health) -> None:
        super().__init__(services)
        self.health = health

    async def tick(self) -> None:
        """One pass; the steps it fires are observed in the lateness histogram."""
        services = self.services
        now = services.clock.now()
        async with services.db.read() as conn:
            soonest = await repo.find_next_due_at(conn)
            due = await repo.list_due_tickets(conn, now) if soonest and soonest <= now else []
        steps = [s for t in due for s in due_steps(t, services.desk.policy, now)]
        await super().tick()
        for step in steps:
            self.health.lateness.observe(max(0.0, (now - step.due_at).total_seconds()))


# ---- the HTTP endpoint -------------------------------------------------------------------


class HealthServer:
    """`/healthz` and `/metrics` on `host:port` (port 0: a free one, see `port`)."""

    def __init__(self, health: Health, listen: str) -> None:
        self.health = health
        self.host, _, port = listen.rpartition(":")
        self._port = int(port)
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The port actually bound."""
        return self._port

    async def start(self) -> None:
        """Listen."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host.strip("[]") or None, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("health and metrics on http://%s:%d/", self.host, self._port)

    async def stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        reasons = await self.health.reasons()
        if reasons:
            return web.Response(status=503, text="\n".join(reasons) + "\n")
        return web.Response(text="ok\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await self.health.refresh()
        except (StorageError, TimeoutError) as exc:
            # the counters still tell something; the database gauges keep their last values
            log.warning("metrics: could not read the database: %s", exc)
        body = generate_latest(self.health.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


# ---- systemd readiness and watchdog --------------------------------------------------------


def sd_notify(state: str) -> bool:
    """Send `state` to systemd's NOTIFY_SOCKET (False when not run by systemd)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError as exc:
            log.warning("could not notify systemd: %s", exc)
            return False
    return True
