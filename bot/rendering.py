"""Turns outbox items and query results into messages, reading current state at send time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Any

from bot.domain.roster import backup_at, on_call_at, shifts_between
from bot.domain.stats import Stats
from bot.domain.tickets import Ticket, effective_deadline, is_overdue
from bot.export import load_records, to_json
from bot.reporting import build_report, csv_filename, load_stats, period_start, stats_text
from bot.services import Role, Services
from bot.texts import CARD_TICKETS, HELP, USAGE, Rendered, Texts, split_lines, split_text
from storage import repository as repo
from storage.db import Connection
from storage.repository import OutboxItem

MAX_CARD_TICKETS = CARD_TICKETS  # a grouped card stays well under 4096 characters when edited


class Renderer:
    """Renders outbox items (cards, notices) and query answers in the configured language."""

    def __init__(self, services: Services) -> None:
        self.services = services
        cfg = services.config
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
            return self.texts.card(t, now, duty, count, dups)
        return self.texts.group_card(tickets, dups, now, duty)

    async def _dups(self, conn: Connection, tickets: list[Ticket]) -> list[Ticket]:
        """Tickets that the reports which created these tickets named while already open."""
        shown = {t.id for t in tickets}
        found: dict[int, Ticket] = {}
        reports = dict.fromkeys((t.chat_id, t.report_message_id) for t in tickets)
        for report in reports:
            for tid in await repo.list_tickets_of_report(conn, *report):
                if tid in shown or tid in found:
                    continue
                other = await repo.find_ticket(conn, tid)
                if other is not None and (other.chat_id, other.report_message_id) != report:
                    found[tid] = other  # reported by this message, created by an earlier one
        return list(found.values())

    async def say(self, item: OutboxItem) -> list[Rendered]:
        """A notice from a template key and its arguments."""
        key: str = item.payload["key"]
        args: dict[str, Any] = dict(item.payload.get("args", {}))
        reply_to = item.payload.get("reply_to")
        ids: list[int] = list(args.get("tickets", []))
        now = self.services.clock.now()
        if key == "stats":
            days = int(args.get("days", 7))
            text = stats_text(await self._stats(now, days), self.texts, days)
            return [
                Rendered(part, None, reply_to if i == 0 else None)
                for i, part in enumerate(split_text(text))
            ]
        async with self.services.db.read() as conn:
            tickets = await repo.list_tickets_by_ids(conn, ids)
            texts = await self._say_text(conn, key, args, tickets, now)
        track = item.payload.get("track")
        return [
            Rendered(text, None, reply_to if i == 0 else None, tuple(t.id for t in tickets), track)
            for i, text in enumerate(texts)
        ]

    async def _say_text(
        self,
        conn: Connection,
        key: str,
        args: dict[str, Any],
        tickets: list[Ticket],
        now: datetime,
    ) -> list[str]:
        x = self.texts
        refs = ", ".join(x.ref(t) for t in tickets)
        who = x.people(args.get("people", []), phone=key not in ("clarified", "assigned_ping"))
        if key == "duplicate":
            line = ", ".join(self.t("dup_line", ref=x.ref(t), n=t.report_count) for t in tickets)
            return [self.t("duplicate", tickets=line)]
        if key in ("overdue", "no_oncall", "oncall_unreachable"):
            lines = [self._overdue_line(t, now) for t in tickets]
            head = self.t(key, name=escape(str(args.get("name", ""))))
            return split_lines(lines, head=head, tail=[self.t("supervisors_tail", who=who)])
        if key == "ack_reminder":
            head = self.t(key, d=x.span(self.services.config.policy.ack))
            lines = [x.ticket_line(t, now) for t in tickets]
            return split_lines(lines, head=head, tail=[self.t("ack_reminder_tail", who=who)])
        if key == "closed_notice" and tickets:
            t = tickets[0]
            note = f"\n<i>{escape(args['note'])}</i>" if args.get("note") else ""
            return [
                self.t(
                    key,
                    ref=x.ref(t),
                    status=self.t(f"st_{args['status']}"),
                    outcome=self.t(f"oc_{args['outcome']}"),
                    note=note,
                )
            ]
        if key == "clarify_question" and tickets:
            return [
                self.t(
                    key,
                    who=x.person(args.get("reporter"), phone=False),
                    ref=x.ref(tickets[0]),
                    question=escape(args.get("question", "")),
                )
            ]
        if key == "clarified" and tickets:
            d = x.span(timedelta(seconds=float(args.get("paused", 0))))
            return [self.t(key, ref=x.ref(tickets[0]), d=d, who=who if args.get("people") else "")]
        if key == "assigned_ping" and tickets:
            return [self.t(key, ref=x.ref(tickets[0]), who=who)]
        if key in ("dm_new", "dm_assigned", "dm_reminder"):
            return [self.t(key, tickets=refs)]
        if key == "handoff":
            lines = [x.ticket_line(t, now) for t in tickets]
            head = self.t(
                key,
                from_=x.person(args.get("from"), phone=False),
                to=x.person(args.get("to")),
                until=x.when(datetime.fromisoformat(args["until"])),
                open=args.get("open", 0),
                lines="",
            )
            return split_lines(lines, head=head)
        if key == "digest":
            return await self._digest(conn, now)
        if key == "feedback":
            return split_lines([self.t(f["key"], **f["args"]) for f in args["items"]])
        if key == "usage":
            usage = USAGE[args["cmd"]]
            return [
                self.t("ids_usage", cmd=args["cmd"], args=escape(usage.get(x.lang, usage["en"])))
            ]
        if key == "help":
            return [self._help(Role(args["role"]))]
        if key == "oncall_info":
            return [await self._oncall(conn, now)]
        if key == "open_list":
            return await self._open_list(conn, now)
        if key == "ticket_detail" and tickets:
            return await self._detail(conn, tickets[0], now)
        if key == "raw":
            return [str(args["text"])]
        if key == "dm_started":
            return [self.t(key, name=escape(args.get("name", "")))]
        return [self.t(key, **args)]

    def _overdue_line(self, t: Ticket, now: datetime) -> str:
        due = effective_deadline(t, self.services.config.policy, now)
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
        cfg = self.services.config
        return await load_stats(self.services.db, cfg.policy, cfg.zone, now, days)

    async def report(self, days: int) -> tuple[bytes, bytes, str, str]:
        """The /report chart (PNG), the period's tickets (CSV), a caption and the CSV's name."""
        cfg = self.services.config
        now = self.services.clock.now()
        png, table, caption = await build_report(
            self.services.db, cfg.policy, cfg.zone, cfg.language, now, days
        )
        return png, table, caption, csv_filename(now, cfg.zone, cfg.language)

    async def export(self, days: int) -> tuple[bytes, str]:
        """The last `days` days of tickets with their history, as SPEC's JSON export."""
        cfg = self.services.config
        now = self.services.clock.now()
        records = await load_records(
            self.services.db, cfg.policy, period_start(now, cfg.zone, days)
        )
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
        policy = self.services.config.policy
        tickets.sort(key=lambda t: (effective_deadline(t, policy, now), t.id))
        lines = []
        for t in tickets:
            mark = "⚠️ " if is_overdue(t, policy, now) else ""
            lines.append(mark + self.texts.ticket_line(t, now))
        return split_lines(lines, head=self.t("open_head", n=len(tickets)))

    async def _detail(self, conn: Connection, t: Ticket, now: datetime) -> list[str]:
        duty, _ = await self._duty(conn, now)
        count = await repo.count_open_in_channel(conn, t.channel) if t.channel else 0
        card = self.texts.card(t, now, duty, count).text
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
        policy = self.services.config.policy
        open_tickets = await repo.list_open_tickets(conn)
        overdue = [t for t in open_tickets if is_overdue(t, policy, now)]
        closed = await repo.count_closed_since(conn, now - timedelta(days=1))
        overdue.sort(key=lambda t: effective_deadline(t, policy, now))
        lines = ["⚠️ " + self.texts.ticket_line(t, now) for t in overdue[:20]]
        head = self.t(
            "digest", open=len(open_tickets), overdue=len(overdue), closed=closed, lines=""
        )
        return split_lines(lines, head=head)
