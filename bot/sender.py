"""The one sender: delivers the durable outbox with retries, within Telegram's limits.

A notification is committed to the outbox with the change that causes it; this loop
delivers it and marks it sent. Crash window: if the process dies after Telegram accepted a
message and before `mark_outbox_sent` commits, that message is sent again after restart
(at most once more). Nothing is ever dropped: transient failures (429, 5xx, timeouts) are
retried; only permanent ones (403 on a direct message, a 400 the bot cannot fix) are
recorded as failed.

Retry rule: a 429 waits exactly its `retry_after` and leaves the backoff alone (Telegram
said when to come back). 5xx, network errors and timeouts back off from `backoff_base`
(1 s), doubling with each consecutive such failure of the row, capped at `max_backoff`
(30 s), each delay scaled by a uniform random factor within +-`jitter` (20 %). The count of
consecutive transient failures is kept in memory per row: a 429 in between neither grows
nor resets it; after a restart it starts again at 1 s (the delay itself is durable, as the
row's not_before).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.notices import Card, ExportFile, Leave, Notice, Refresh, ReportFiles
from bot.rendering import MAX_CARD_TICKETS, Renderer
from bot.services import Services
from bot.texts import Buttons, Rendered
from storage import outbox
from storage import repository as repo
from storage.db import StorageError
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

# rows read per delivery: enough for the fullest batch (a card of 40 tickets, a merged
# notice); a longer backlog merges in the next delivery
BATCH_ROWS = 200


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's sending limits as the sender applies them."""

    group_messages: int = 20  # per group_window in one group
    group_window: float = 60.0
    min_gap: float = 1.0  # between two messages to the same chat
    backoff_base: float = 1.0  # the first wait after a 5xx, network error or timeout
    max_backoff: float = 30.0
    jitter: float = 0.2  # each backoff is scaled by a factor within 1 +- jitter


def backoff(limits: Limits, failures: int, rng: random.Random) -> float:
    """The wait after the `failures`-th consecutive transient failure (1, 2, ...):
    base * 2**(failures - 1), capped, times a uniform factor within 1 +- jitter (never
    above the cap)."""
    plain = min(limits.max_backoff, limits.backoff_base * 2.0 ** min(max(failures, 1) - 1, 30))
    factor = rng.uniform(1.0 - limits.jitter, 1.0 + limits.jitter)
    return min(limits.max_backoff, plain * factor)


def keyboard(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    """Plain button rows to Telegram's inline keyboard."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


class Sender:
    """Delivers pending outbox rows; one worker per chat so a busy group never blocks a DM."""

    def __init__(
        self,
        bot: Bot,
        services: Services,
        renderer: Renderer,
        limits: Limits | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.bot = bot
        self.services = services
        self.renderer = renderer
        self.limits = limits or Limits()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # outbox row id -> its consecutive transient failures (5xx, network, timeout)
        self._failures: dict[int, int] = {}
        self._wake = asyncio.Event()
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._sent: dict[int, deque[float]] = {}
        self._last: dict[int, float] = {}
        self._paused_until: dict[int, float] = {}
        self._stopping = asyncio.Event()
        self.delivered = 0

    def wake(self) -> None:
        """Something was queued: look again now."""
        self._wake.set()

    async def finish(self, within: float = 5.0) -> None:
        """Take no new work and give deliveries in flight `within` seconds to end and be
        recorded: cut off after Telegram accepted a message, it would be sent again."""
        self._stopping.set()
        self._wake.set()
        busy = [t for t in self._workers.values() if not t.done()]
        if busy:
            await asyncio.wait(busy, timeout=within)

    async def run(self) -> None:
        """Forever: start a worker for each chat with deliverable rows."""
        try:
            while True:
                self._wake.clear()
                loop = asyncio.get_running_loop()
                now = self.services.clock.now()
                # only which chats have work and when a postponed row falls due: reading (and
                # JSON-decoding) the whole backlog on every wake made a burst quadratic
                async with self.services.db.read() as conn:
                    chats = await outbox.list_outbox_chats(conn, now)
                soonest: float | None = None
                for chat_id, not_before in chats:
                    if not_before is not None:
                        wait = (not_before - now).total_seconds()
                        soonest = wait if soonest is None else min(soonest, wait)
                        continue
                    task = self._workers.get(chat_id)
                    if (task is None or task.done()) and not self._stopping.is_set():
                        task = loop.create_task(self._work(chat_id))
                        # a row that fell due while this worker was finishing is seen at once
                        task.add_done_callback(lambda _: self._wake.set())
                        self._workers[chat_id] = task
                with contextlib.suppress(TimeoutError):
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel
                    async with asyncio.timeout(soonest or 30.0):
                        await self._wake.wait()
        finally:
            for task in self._workers.values():
                task.cancel()
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def _pending(self, chat_id: int | None = None) -> list[OutboxItem]:
        """What is due now (for one chat: its rows only, read by the chat's index)."""
        async with self.services.db.read() as conn:
            return await outbox.list_pending_outbox(
                conn, BATCH_ROWS, chat_id=chat_id, due_at=self.services.clock.now()
            )

    async def _work(self, chat_id: int) -> None:
        while not self._stopping.is_set():
            if not await self._pending(chat_id):
                return
            await self._pace(chat_id, until_stop=True)
            if self._stopping.is_set():
                return
            items = await self._pending(chat_id)  # more may have queued while pacing
            if not items:
                return
            batch = take_batch(items)
            try:
                await self._deliver(chat_id, batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                # a bug in rendering must not kill delivery of everything else
                log.exception("outbox delivery failed for rows %s", [i.id for i in batch])
                try:
                    await self._retry(batch, 30.0, "internal error")
                except StorageError:
                    log.exception("cannot postpone rows %s; trying again shortly", batch)
                    await asyncio.sleep(5.0)
            self._wake.set()

    async def _pace(self, chat_id: int, *, until_stop: bool = False) -> None:
        """Wait until one more message to this chat stays within the limits; `until_stop`
        (between rows, never inside one) gives up the wait when the sender stops."""
        loop = asyncio.get_running_loop()
        lim = self.limits
        while True:
            now = loop.time()
            wait = 0.0
            wait = max(wait, self._paused_until.get(chat_id, 0.0) - now)
            wait = max(wait, self._last.get(chat_id, -1e9) + lim.min_gap - now)
            sent = self._sent.setdefault(chat_id, deque())
            while sent and sent[0] <= now - lim.group_window:
                sent.popleft()
            if chat_id < 0 and len(sent) >= lim.group_messages:
                wait = max(wait, sent[0] + lim.group_window - now)
            if wait <= 0:
                return
            if not until_stop:
                await asyncio.sleep(wait)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._stopping.wait()  # a stop does not wait out the pacing
            if self._stopping.is_set():
                return

    def _count(self, chat_id: int, *, new_message: bool) -> None:
        now = asyncio.get_running_loop().time()
        self._last[chat_id] = now
        if new_message:
            self._sent.setdefault(chat_id, deque()).append(now)

    async def _deliver(self, chat_id: int, batch: list[OutboxItem]) -> None:
        head = batch[0]
        notice = head.notice
        ids = [i.id for i in batch]
        try:
            if notice is None:
                await self._fail(ids, f"unreadable outbox row of kind {head.kind!r}")
            elif isinstance(notice, Card):
                new = [t for i in batch if i.notice for t in i.notice.tickets]
                dups = [t for i in batch if isinstance(i.notice, Card) for t in i.notice.dup]
                # at most one card's worth is rendered: an order queues thousands at once
                rendered = await self.renderer.card(chat_id, new[:MAX_CARD_TICKETS], dups)
                reply_to = notice.reply_to
                if rendered and (len(rendered) > 1 or len(new) > MAX_CARD_TICKETS):
                    # send the first full card now; the rest goes back to the queue, where it
                    # merges with cards still arriving rather than going out half empty
                    first = rendered[0]
                    rest = [t for t in new if t not in first.ticket_ids]
                    await self._send_all(
                        chat_id, [first], reply_to, ids, mark=False, thread=self._topic(notice)
                    )
                    await self._requeue_rest(ids, chat_id, rest)
                else:
                    await self._send_all(
                        chat_id, rendered, reply_to, ids, thread=self._topic(notice)
                    )
            elif isinstance(notice, Refresh):
                await self._refresh(chat_id, notice.message_id, ids)
            elif isinstance(notice, ReportFiles | ExportFile):
                await self._send_files(chat_id, notice, ids)
            elif isinstance(notice, Leave):
                text = self.renderer.t("leave_reason")
                await self._send_all(chat_id, [Rendered(text)], None, ids, mark=False)
                await self.bot.leave_chat(chat_id)
                await self._mark_sent(ids, None)
            else:
                rendered = await self.renderer.render(merged(batch))
                thread = self._topic(notice) if chat_id == self.services.desk.chat_id else None
                await self._send_all(chat_id, rendered, notice.reply_to, ids, thread=thread)
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            self._paused_until[chat_id] = asyncio.get_running_loop().time() + delay
            log.warning("429 from Telegram for chat %s: retry after %.0fs", chat_id, delay)
            await self._retry(batch, delay, f"429 retry_after={delay}")
        except Forbidden as exc:
            await self._fail(ids, f"403 {exc.message}")
            if chat_id > 0:
                # direct messages are a best-effort extra: someone who never started the bot
                # or blocked it is expected, not an error
                log.info("direct message to %s refused (%s)", chat_id, exc.message)
                await self.services.mark_dm(chat_id, False)
            elif self.services.desk.is_own_chat(chat_id):
                # the liaison or supervisor chat itself refuses the bot: someone must act
                log.error("chat %s refuses the bot: %s", chat_id, exc.message)
            elif isinstance(notice, Leave):
                log.info("group %s refused the goodbye (already out): %s", chat_id, exc.message)
            else:
                log.warning("foreign chat %s refuses the bot: %s", chat_id, exc.message)
        except ChatMigrated as exc:
            new_id = int(exc.new_chat_id)
            log.error(
                "chat %s is now supergroup %s: moving its notifications there", chat_id, new_id
            )
            async with self.services.db.transaction() as conn:
                await outbox.move_outbox_chat(conn, chat_id, new_id)
        except BadRequest as exc:
            log.error("400 from Telegram for chat %s (%s): %s", chat_id, head.kind, exc.message)
            await self._fail(ids, f"400 {exc.message}")
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx: transient, try again
            failures = 1 + max(self._failures.get(i, 0) for i in ids)
            delay = backoff(self.limits, failures, self._rng)
            log.warning(
                "send to %s failed (%s); transient failure %d, retry in %.1fs",
                chat_id,
                exc,
                failures,
                delay,
            )
            await self._retry(batch, delay, str(exc))
            self._failures.update(dict.fromkeys(ids, failures))

    async def _send_one(
        self, chat_id: int, part: Rendered, target: int | None, thread: int | None
    ) -> Message:
        reply = ReplyParameters(target, allow_sending_without_reply=True) if target else None
        try:
            return await self.bot.send_message(
                chat_id,
                part.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(part.buttons),
                reply_parameters=reply,
                message_thread_id=thread,
                disable_web_page_preview=True,
            )
        except BadRequest as exc:
            if thread is None or "thread not found" not in exc.message.lower():
                raise
            # a wrong LIAISON_NOTICE_TOPIC (or a deleted topic) must not lose the notice
            log.error("topic %s of chat %s not found; posting in General", thread, chat_id)
            return await self._send_one(chat_id, part, target, None)

    def _topic(self, notice: Notice) -> int | None:
        """Where in a forum a notice goes: its report's topic; a notice the bot starts
        itself (no reply) in the configured notice topic (None: General)."""
        if notice.thread is not None or notice.reply_to is not None:
            return notice.thread
        return self.services.desk.notice_topic

    async def _send_all(
        self,
        chat_id: int,
        rendered: Sequence[Rendered],
        reply_to: int | None,
        ids: list[int],
        *,
        mark: bool = True,
        thread: int | None = None,
    ) -> None:
        last: Message | None = None
        for index, part in enumerate(rendered):
            if index:
                await self._pace(chat_id)
            target = (
                part.reply_to if part.reply_to is not None else reply_to if index == 0 else None
            )
            last = await self._send_one(chat_id, part, target, thread)
            self._count(chat_id, new_message=True)
            self.delivered += 1
            if part.anchor is not None:  # it showed the chain head: the anchor is an event,
                # recorded with "sent" in one transaction (the renderer puts it on the last
                # part): posted once, recorded once
                delivered = ids if mark and index == len(rendered) - 1 else []
                await self._mark_sent(delivered, last.message_id, (chat_id, part.anchor))
                mark = mark and not delivered
            try:
                await self._after_send(chat_id, last.message_id, part)
            except StorageError:  # it was delivered: never send it again for this
                log.exception("could not record which tickets message %s shows", last.message_id)
        if mark:
            await self._mark_sent(ids, last.message_id if last else None)

    async def _requeue_rest(self, ids: list[int], chat_id: int, rest: list[int]) -> None:
        """Mark a card batch delivered and queue its unsent tickets, in one transaction."""
        now = self.services.clock.now()
        async with self.services.db.transaction() as conn:
            await outbox.mark_outbox_sent(conn, ids, now, None)
            if rest:
                await outbox.add_outbox(conn, chat_id, Card(tickets=tuple(rest)), now)
        self._forget(ids)

    async def _send_files(
        self, chat_id: int, notice: ReportFiles | ExportFile, ids: list[int]
    ) -> None:
        """/report: the chart as a photo and the tickets as CSV; /export: the JSON file."""
        days = notice.days
        reply_to = notice.reply_to
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        last: Message
        if isinstance(notice, ReportFiles):
            png, table, caption, name = await self.renderer.report(days)
            await self.bot.send_photo(
                chat_id,
                InputFile(png, filename="report.png"),
                caption=caption,
                reply_parameters=reply,
            )
            self._count(chat_id, new_message=True)
            await self._pace(chat_id)
            last = await self.bot.send_document(chat_id, InputFile(table, filename=name))
        else:
            data, name = await self.renderer.export(days)
            last = await self.bot.send_document(
                chat_id, InputFile(data, filename=name), reply_parameters=reply
            )
        self._count(chat_id, new_message=True)
        await self._mark_sent(ids, last.message_id)

    async def _after_send(self, chat_id: int, message_id: int, part: Rendered) -> None:
        if not part.track or not part.ticket_ids:
            return
        async with self.services.db.transaction() as conn:
            await repo.add_bot_message(conn, chat_id, message_id, part.ticket_ids, part.track)
            if part.track == "clarify":
                await repo.set_clarify_message(conn, part.ticket_ids[0], message_id)
        if part.track == "card":
            # a ticket may have changed while its card was on the way: edit it right away
            fresh = await self.renderer.refresh(chat_id, message_id)
            if fresh is not None and fresh.text != part.text:
                async with self.services.db.transaction() as conn:
                    await outbox.add_outbox(
                        conn, chat_id, Refresh(message_id=message_id), self.services.clock.now()
                    )

    async def _refresh(self, chat_id: int, message_id: int, ids: list[int]) -> None:
        rendered = await self.renderer.refresh(chat_id, message_id)
        if rendered is None:
            await self._mark_sent(ids, message_id)
            return
        try:
            await self.bot.edit_message_text(
                rendered.text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(rendered.buttons),
                disable_web_page_preview=True,
            )
            self._count(chat_id, new_message=False)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        await self._mark_sent(ids, message_id)

    async def _mark_sent(
        self,
        ids: list[int],
        message_id: int | None,
        anchor: tuple[int, tuple[int, str]] | None = None,
    ) -> None:
        """Record a delivery; Telegram has the message, so keep trying until storage takes it
        (giving up would leave the row pending and send the message a second time).
        `anchor`: the message (chat, chain head) showed the chain head: its event is
        recorded in the same transaction."""
        delay = 0.5
        while True:
            try:
                if anchor is not None and message_id is not None:
                    chat_id, head = anchor
                    await self.services.record_anchor(chat_id, message_id, head, ids)
                else:
                    async with self.services.db.transaction() as conn:
                        now = self.services.clock.now()
                        await outbox.mark_outbox_sent(conn, ids, now, message_id)
                self._forget(ids)
                return
            except StorageError as exc:
                log.error("cannot record delivered rows %s yet (%s); retrying", ids, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _retry(self, batch: list[OutboxItem], delay: float, error: str) -> None:
        not_before = self.services.clock.now() + timedelta(seconds=delay)
        async with self.services.db.transaction() as conn:
            await outbox.mark_outbox_retry(conn, [i.id for i in batch], not_before, error)

    async def _fail(self, ids: list[int], error: str) -> None:
        async with self.services.db.transaction() as conn:
            await outbox.mark_outbox_failed(conn, ids, error)
        self._forget(ids)

    def _forget(self, ids: list[int]) -> None:
        """A row delivered or given up: its transient failures no longer matter."""
        for i in ids:
            self._failures.pop(i, None)

    async def drain(self, within: float = 10.0) -> bool:
        """Wait until nothing deliverable is pending (for tests and clean stops)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + within
        while loop.time() < end:
            now = self.services.clock.now()
            pending = [
                i for i in await self._pending() if i.not_before is None or i.not_before <= now
            ]
            if not pending and all(t.done() for t in self._workers.values()):
                return True
            self.wake()
            await asyncio.sleep(0.05)
        return False


def take_batch(items: list[OutboxItem]) -> list[OutboxItem]:
    """The next delivery: consecutive cards merge, repeated refreshes of one card collapse,
    consecutive mergeable notices that differ only in their tickets go out as one."""
    head = items[0]
    notice = head.notice
    if isinstance(notice, Card):
        batch = [head]
        count = len(notice.tickets)
        for item in items[1:]:
            if not isinstance(item.notice, Card):
                break
            size = len(item.notice.tickets)
            if count + size > MAX_CARD_TICKETS:
                break
            batch.append(item)
            count += size
        return batch
    if notice is not None and notice.MERGEABLE and notice.reply_to is None:
        batch = [head]
        shape = notice.without_tickets()
        for item in items[1:]:
            if item.notice is None or item.notice.without_tickets() != shape:
                break
            batch.append(item)
        return batch
    if isinstance(notice, Refresh):
        return [i for i in items if i.notice == notice]
    return [head]


def merged(batch: list[OutboxItem]) -> Notice:
    """Several notices of one kind to one chat as one notice listing all their tickets."""
    notices = [i.notice for i in batch if i.notice is not None]
    tickets = tuple(dict.fromkeys(t for n in notices for t in n.tickets))
    return dataclasses.replace(notices[0], tickets=tickets)


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
