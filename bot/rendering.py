"""Turns outbox items and query results into messages, reading current state at send time."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

from bot.domain.orders import order_progress
from bot.domain.proof import receipt
from bot.domain.roster import backup_at, on_call_at, shifts_between
from bot.domain.stats import Stats
from bot.domain.tickets import Ticket, by_category_legal_first, effective_deadline, is_overdue
from bot.export import load_records, to_json
from bot.figures import build_report, csv_filename, load_stats, period_start, stats_text
from bot.notices import (
    AckReminder,
    AnchorNotice,
    AssignedPing,
    ChatMigrated,
    ClarifiedNotice,
    ClarifyQuestion,
    ClosedNotice,
    Digest,
    DmAssigned,
    DmNew,
    DmReminder,
    DmStarted,
    DuplicateReply,
    FeedbackReply,
    Handoff,
    Help,
    NoOnCall,
    Notice,
    OnCallInfo,
    OnCallUnreachable,
    OpenList,
    OrderProgress,
    OrderRefusal,
    OrderSummary,
    OverdueAlert,
    StatsReply,
    TicketDetail,
    Usage,
)
from bot.services import Role, Services
from bot.texts import (
    CARD_TICKETS,
    HELP,
    LIMIT,
    USAGE,
    Rendered,
    Texts,
    split_lines,
    split_text,
)
from bot.texts.orders import progress_texts, refusal_text, summary_texts
from storage import orders as order_repo
from storage import repository as repo
from storage.db import Connection

MAX_CARD_TICKETS = CARD_TICKETS  # a grouped card stays well under 4096 characters when edited


class Renderer:
    """Renders outbox items (cards, notices) and query answers in the configured language."""

    def __init__(self, services: Services) -> None:
        self.services = services
        cfg = services.desk
        self.texts = Texts(cfg.language, cfg.zone, services.roster, cfg.policy)

    def t(self, key: str, **args: Any) -> str:
        """Shortcut to the language templates."""
        return self.texts.t(key, **args)

    # ---- outbox ------------------------------------------------------------------------

    async def card(self, chat_id: int, new: Sequence[int], dups: Sequence[int]) -> list[Rendered]:
        """A new-ticket card: full for one ticket, grouped lists for several.

        Each message is rendered exactly as `refresh` will later render it from the tickets
        it shows, so an edit in place never drops a line. The already-tracked tickets named
        with them are found again from the reports (`dups` is what the queue said then).
        """
        now = self.services.clock.now()
        if not new:  # an album whose posts were all tracked already
            return await self.render(DuplicateReply(tickets=tuple(dups))) if dups else []
        async with self.services.db.read() as conn:
            tickets = await repo.list_tickets_by_ids(conn, new)
            if not tickets:
                return []
            duty, _ = await self._duty(conn, now)
            if len(tickets) == 1:
                return [await self._card_of(conn, tickets, now, duty)]
            chunks = self.texts.card_chunks(tickets, await self._dups(conn, tickets), now)
            return [await self._card_of(conn, chunk, now, duty) for chunk in chunks]

    async def refresh(self, chat_id: int, message_id: int) -> Rendered | None:
        """The current state of a card message (for an edit in place)."""
        now = self.services.clock.now()
        async with self.services.db.read() as conn:
            tickets = await repo.list_tickets_on_card(conn, chat_id, message_id)
            if not tickets:
                return None
            duty, _ = await self._duty(conn, now)
            return await self._card_of(conn, tickets, now, duty)

    async def _card_of(
        self, conn: Connection, tickets: list[Ticket], now: datetime, duty: Any
    ) -> Rendered:
        """One card message showing these tickets."""
        dups = await self._dups(conn, tickets)
        if len(tickets) == 1:
            t = tickets[0]
            count = await repo.count_open_in_channel(conn, t.channel) if t.channel else 0
            receipt = (await repo.find_receipts(conn, [t.id])).get(t.id)
            return self.texts.card(t, now, duty, count, dups, receipt)
        receipts = await repo.find_receipts(conn, [t.id for t in tickets])
        return self.texts.group_card(tickets, dups, now, duty, receipts)

    async def _dups(self, conn: Connection, tickets: list[Ticket]) -> list[Ticket]:
        """Tickets that the reports which created these tickets named while already open."""
        shown = {t.id for t in tickets}
        found: dict[int, Ticket] = {}
        reports = dict.fromkeys((t.chat_id, t.report_message_id) for t in tickets)
        for report in reports:
            # reported by this message, created by an earlier one (one query: an order's
            # document reports thousands of tickets, each card of it asks again)
            for other in await repo.list_reported_again(conn, *report):
                if other.id not in shown:
                    found.setdefault(other.id, other)
        return list(found.values())

    async def render(self, notice: Notice) -> list[Rendered]:
        """A text notice as the messages that carry it (long ones are split)."""
        now = self.services.clock.now()
        reply_to = notice.reply_to
        if isinstance(notice, StatsReply):
            text = stats_text(await self._stats(now, notice.days), self.texts, notice.days)
            return [
                Rendered(part, None, reply_to if i == 0 else None)
                for i, part in enumerate(split_text(text))
            ]
        head: tuple[int, str] | None = None
        async with self.services.db.read() as conn:
            tickets = await repo.list_tickets_by_ids(conn, notice.tickets)
            texts = await self._text(notice, conn, tickets, now)
            if notice.TRACK == "anchor":  # ends with the chain head as this read sees it
                head, texts = await self._anchored(conn, texts)
        ids = tuple(t.id for t in tickets)
        out = [
            Rendered(text, None, reply_to if i == 0 else None, ids, notice.TRACK)
            for i, text in enumerate(texts)
        ]
        if head is not None:
            out[-1] = dataclasses.replace(out[-1], anchor=head)
        return out

    async def _anchored(
        self, conn: Connection, texts: list[str]
    ) -> tuple[tuple[int, str] | None, list[str]]:
        """The texts ending with the chain head (its own message when the last is full)."""
        seq, digest = await repo.find_chain_head(conn)
        if seq == 0:
            return None, [*[t for t in texts if t], self.t("anchor_empty")]
        line = self.t("anchor_line", seq=seq, hash=digest)
        texts = [t for t in texts if t]
        if texts and len(texts[-1]) + len(line) + 2 <= LIMIT:
            return (seq, digest), [*texts[:-1], texts[-1] + "\n\n" + line]
        return (seq, digest), [*texts, line]

    @functools.singledispatchmethod
    async def _text(
        self, notice: Notice, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        """The texts of a notice whose words need nothing but the catalogue."""
        return [self.t(notice.KIND)]

    @_text.register
    async def _(
        self, n: DuplicateReply, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        x = self.texts
        line = ", ".join(self.t("dup_line", ref=x.ref(t), n=t.report_count) for t in tickets)
        text = self.t("duplicate", tickets=line)
        if n.reply_to is not None:  # the receipt of the duplicate event this report made
            found = await repo.find_duplicate_receipts(conn, [t.id for t in tickets], n.reply_to)
            if len(tickets) == 1 and tickets[0].id in found:
                text += "\n" + self.t("receipt_line", receipt=receipt(found[tickets[0].id]))
            elif found:
                each = ", ".join(f"#{t} {receipt(h)}" for t, h in found.items())
                text += "\n" + self.t("receipt_line", receipt=each)
        return [text]

    async def _supervisors(
        self,
        n: Notice,
        people: tuple[int, ...],
        tickets: list[Ticket],
        now: datetime,
        name: str = "",
    ) -> list[str]:
        lines = [self._overdue_line(t, now) for t in tickets]
        head = self.t(n.KIND, name=escape(name))
        who = self.texts.people(people, phone=True)
        return split_lines(lines, head=head, tail=[self.t("supervisors_tail", who=who)])

    @_text.register(OverdueAlert)
    @_text.register(NoOnCall)
    async def _(
        self, n: OverdueAlert | NoOnCall, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return await self._supervisors(n, n.people, tickets, now)

    @_text.register
    async def _(
        self, n: OnCallUnreachable, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return await self._supervisors(n, n.people, tickets, now, n.name)

    @_text.register
    async def _(
        self, n: AckReminder, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        x = self.texts
        policy = self.services.desk.policy
        ack = max((policy.windows(t).ack for t in tickets), default=timedelta(0))
        head = self.t("ack_reminder", d=x.span(ack))
        lines = [x.ticket_line(t, now) for t in tickets]
        who = x.people(n.people, phone=True)
        return split_lines(lines, head=head, tail=[self.t("ack_reminder_tail", who=who)])

    @_text.register
    async def _(
        self, n: ClosedNotice, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        if not tickets:
            return []
        note = f"\n<i>{escape(n.note)}</i>" if n.note else ""
        return [
            self.t(
                "closed_notice",
                ref=self.texts.ref(tickets[0]),
                status=self.t(f"st_{n.status}"),
                outcome=self.t(f"oc_{n.outcome}"),
                note=note,
            )
        ]

    @_text.register
    async def _(
        self, n: ClarifyQuestion, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        if not tickets:
            return []
        return [
            self.t(
                "clarify_question",
                who=self.texts.person(n.reporter, phone=False),
                ref=self.texts.ref(tickets[0]),
                question=escape(n.question),
            )
        ]

    @_text.register
    async def _(
        self, n: ClarifiedNotice, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        if not tickets:
            return []
        d = self.texts.span(timedelta(seconds=n.paused_seconds))
        who = self.texts.people(n.people, phone=False) if n.people else ""
        return [self.t("clarified", ref=self.texts.ref(tickets[0]), d=d, who=who)]

    @_text.register
    async def _(
        self, n: AssignedPing, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        if not tickets:
            return []
        who = self.texts.people(n.people, phone=False)
        return [self.t("assigned_ping", ref=self.texts.ref(tickets[0]), who=who)]

    @_text.register(DmNew)
    @_text.register(DmReminder)
    @_text.register(DmAssigned)
    async def _(
        self, n: Notice, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        """The direct messages: their text names the tickets."""
        refs = ", ".join(self.texts.ref(t) for t in tickets)
        if self.texts.catalogue.is_plural(n.KIND):
            return [self.t(n.KIND, tickets=refs, n=len(tickets))]
        return [self.t(n.KIND, tickets=refs)]

    @_text.register
    async def _(
        self, n: Handoff, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        x = self.texts
        policy = self.services.desk.policy
        overdue = [t for t in tickets if is_overdue(t, policy, now)]
        rest = [x.ticket_line(t, now) for t in tickets if t not in overdue]
        lines = self._by_category(overdue, now, limit=len(overdue), mark="⚠️ ") + rest
        head = self.t(
            "handoff",
            from_=x.person(n.from_id, phone=False),
            to=x.person(n.to_id),
            until=x.when(datetime.fromisoformat(n.until)),
            n=n.open,
            lines="",
        )
        return split_lines(lines, head=head)

    @_text.register
    async def _(
        self, n: Digest, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return await self._digest(conn, now)

    @_text.register
    async def _(
        self, n: AnchorNotice, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return []  # the chain head alone: `render` adds it to every anchor notice

    @_text.register
    async def _(
        self, n: FeedbackReply, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return split_lines([self.t(f.key, **f.args()) for f in n.items])

    @_text.register
    async def _(
        self, n: Usage, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        usage = USAGE[n.cmd]
        text = escape(usage.get(self.texts.lang, usage["en"]))
        return [self.t("ids_usage", cmd=n.cmd, args=text)]

    @_text.register
    async def _(
        self, n: Help, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return [self._help(Role(n.role))]

    @_text.register
    async def _(
        self, n: OnCallInfo, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return [await self._oncall(conn, now)]

    @_text.register
    async def _(
        self, n: OpenList, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return await self._open_list(conn, now)

    @_text.register
    async def _(
        self, n: OrderSummary, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        order = await order_repo.find_order(conn, n.order)
        reference = order.reference if order else ""
        return summary_texts(self.texts, n.order, reference, n.new, n.dup, n.repeats, n.without)

    @_text.register
    async def _(
        self, n: OrderRefusal, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return [refusal_text(self.texts, n.reason)]

    @_text.register
    async def _(
        self, n: OrderProgress, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        order = await order_repo.find_order(conn, n.order)
        if order is None:
            return [self.t("order_unknown", order=n.order)]
        progress = order_progress(
            await order_repo.list_order_tickets(conn, order), self.services.desk.policy, now
        )
        when = self.texts.when(order.created_at)
        return progress_texts(self.texts, order.id, order.reference, when, progress)

    @_text.register
    async def _(
        self, n: TicketDetail, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return await self._detail(conn, tickets[0], now) if tickets else []

    @_text.register
    async def _(
        self, n: DmStarted, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return [self.t("dm_started", name=escape(n.name))]

    @_text.register
    async def _(
        self, n: ChatMigrated, conn: Connection, tickets: list[Ticket], now: datetime
    ) -> list[str]:
        return [self.t("chat_migrated", new=n.new)]

    def _overdue_line(self, t: Ticket, now: datetime) -> str:
        due = effective_deadline(t, self.services.desk.policy, now)
        late = self.t("overdue_by", d=self.texts.span(now - due)) if now > due else ""
        parts = [self.texts.ref(t)]
        if t.urgent:
            parts.append("🔴")
        parts.append(self.texts.status(t))
        if late:
            parts.append(late)
        if t.assignee_id:
            parts.append(self.texts.person(t.assignee_id, phone=False))
        return " · ".join(parts)

    async def _stats(self, now: datetime, days: int) -> Stats:
        cfg = self.services.desk
        return await load_stats(self.services.db, cfg.policy, cfg.zone, now, days)

    async def report(self, days: int) -> tuple[bytes, bytes, str, str]:
        """The /report chart (PNG), the period's tickets (CSV), a caption and the CSV's name."""
        cfg = self.services.desk
        now = self.services.clock.now()
        png, table, caption = await build_report(
            self.services.db, cfg.policy, cfg.zone, cfg.language, now, days
        )
        return png, table, caption, csv_filename(now, cfg.zone, cfg.language)

    async def export(self, days: int) -> tuple[bytes, str]:
        """The last `days` days of tickets with their history, as SPEC's JSON export."""
        cfg = self.services.desk
        now = self.services.clock.now()
        since = period_start(now, cfg.zone, days)
        records = await load_records(self.services.db, cfg.policy, since)
        name = f"liaison-export-{now.astimezone(cfg.zone):%Y-%m-%d}.json"
        return to_json(records).encode("utf-8"), name

    # ---- queries -----------------------------------------------------------------------

    async def _duty(self, conn: Connection, now: datetime) -> tuple[Any, Any]:
        overrides = await self.services.overrides(conn, now)
        roster = self.services.roster
        return on_call_at(roster, overrides, now), backup_at(roster, overrides, now)

    def _help(self, role: Role) -> str:
        lang = self.texts.lang
        lines: list[str] = []
        for level in ("reporter", "moderator", "supervisor"):
            lines.extend(HELP[level][lang])
            if level == role.value or (level == "reporter" and role is Role.STRANGER):
                break
        return "\n".join(escape(line) for line in lines)

    async def _oncall(self, conn: Connection, now: datetime) -> str:
        duty, backup = await self._duty(conn, now)
        if duty is None:
            return self.t("oncall_none")
        upcoming = shifts_between(self.services.roster, duty.until, duty.until + timedelta(days=7))
        nxt = next((s for s in upcoming if s.person.telegram_id != duty.person.telegram_id), None)
        nxt_text = (
            f"{self.texts.mention(nxt.person)} ({self.texts.when(max(nxt.start, duty.until))})"
            if nxt
            else "—"
        )
        return self.t(
            "oncall_info",
            who=self.texts.mention(duty.person),
            until=self.texts.when(duty.until),
            override=self.t("override_mark") if duty.overridden else "",
            backup=self.texts.mention(backup) if backup else "—",
            next=nxt_text,
            unreachable=self.t("oncall_unreachable_mark")
            if await self.services.unreachable(conn, duty.person.telegram_id)
            else "",
        )

    async def _open_list(self, conn: Connection, now: datetime) -> list[str]:
        tickets = await repo.list_open_tickets(conn)
        if not tickets:
            return [self.t("open_none")]
        policy = self.services.desk.policy
        tickets.sort(key=lambda t: (effective_deadline(t, policy, now), t.id))
        lines = []
        for t in tickets:
            mark = "⚠️ " if is_overdue(t, policy, now) else ""
            lines.append(mark + self.texts.ticket_line(t, now))
        return split_lines(lines, head=self.t("open_head", n=len(tickets)))

    async def _detail(self, conn: Connection, t: Ticket, now: datetime) -> list[str]:
        duty, _ = await self._duty(conn, now)
        count = await repo.count_open_in_channel(conn, t.channel) if t.channel else 0
        receipt_hash = (await repo.find_receipts(conn, [t.id])).get(t.id)
        card = self.texts.card(t, now, duty, count, receipt=receipt_hash).text
        events = await repo.list_events(conn, t.id)
        evidence = await repo.list_evidence(conn, t.id)
        lines = [
            f"{self.texts.when(e.at, seconds=True)} · {escape(e.kind)}"
            + (f" · {self.texts.person(e.actor_id, phone=False)}" if e.actor_id else "")
            + (f" · {escape(e.detail)}" if e.detail else "")
            for e in events
        ]
        tail = [self.t("evidence_line", n=len(evidence))] if evidence else []
        return split_lines(lines, head=card + "\n\n" + self.t("history_head"), tail=tail)

    async def _digest(self, conn: Connection, now: datetime) -> list[str]:
        policy = self.services.desk.policy
        open_tickets = await repo.list_open_tickets(conn)
        overdue = [t for t in open_tickets if is_overdue(t, policy, now)]
        closed = await repo.count_closed_since(conn, now - timedelta(days=1))
        lines = self._by_category(overdue, now, limit=20, mark="⚠️ ")
        head = self.t(
            "digest", open=len(open_tickets), overdue=len(overdue), closed=closed, lines=""
        )
        return split_lines(lines, head=head)

    def _by_category(
        self, tickets: list[Ticket], now: datetime, *, limit: int, mark: str = ""
    ) -> list[str]:
        """Ticket lines under their category's name, the nearest legal deadline first."""
        policy = self.services.desk.policy
        lines: list[str] = []
        shown = 0
        for key, group in by_category_legal_first(tickets, policy, now):
            if shown >= limit:
                break
            name = policy.categories.get(key).name(self.texts.lang)
            lines.append(f"<b>{escape(name)}</b>")
            for t in group[: limit - shown]:
                lines.append(mark + self.texts.ticket_line(t, now))
                shown += 1
        return lines
