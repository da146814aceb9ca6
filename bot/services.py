"""Use cases: report, acknowledge, close, reopen, escalate… (no telegram imports).

Every state change, its history events and the notifications it causes are written in one
SQLite transaction; notifications go to the outbox and are delivered by the sender.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.links import Link
from bot.domain.roster import OnCall, Override, Person, Roster, backup_at, on_call_at
from bot.domain.roster import next_shift_change as roster_next_shift_change
from bot.domain.roster import shift_at as roster_shift_at
from bot.domain.tickets import (
    EscalationPolicy,
    Outcome,
    Status,
    StepKind,
    Ticket,
    due_steps,
    effective_deadline,
    next_due_at,
)
from storage import repository as repo
from storage.db import Connection, Database

log = logging.getLogger(__name__)


class Role(StrEnum):
    """What someone may do here (ordered by power)."""

    STRANGER = "stranger"
    REPORTER = "reporter"
    MODERATOR = "moderator"
    SUPERVISOR = "supervisor"


RANK = {Role.STRANGER: 0, Role.REPORTER: 1, Role.MODERATOR: 2, Role.SUPERVISOR: 3}


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The parts of the settings the use cases need."""

    chat_id: int
    supervisor_chat_id: int | None
    policy: EscalationPolicy
    zone: ZoneInfo
    language: str = "id"
    evidence_retention: timedelta = timedelta(days=180)
    digest_at: time | None = time(8, 0)


@dataclass(frozen=True, slots=True)
class EvidenceIn:
    """Evidence captured from the reporting message."""

    text: str | None = None
    media: tuple[str, ...] = ()
    origin: str | None = None
    origin_chat_id: int | None = None
    origin_message_id: int | None = None
    origin_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Intake:
    """One message in the liaison chat, as far as reports are concerned."""

    chat_id: int
    message_id: int
    reporter_id: int
    links: Sequence[Link]
    forwarded_without_link: bool = False
    urgent: bool = False
    foreign_url: bool = False
    evidence: EvidenceIn = field(default_factory=EvidenceIn)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What a report produced."""

    new: tuple[int, ...] = ()
    duplicates: tuple[int, ...] = ()
    hinted: bool = False


@dataclass(frozen=True, slots=True)
class Feedback:
    """A short answer for the person who acted (button toast or nothing)."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    shown_in: int | None = None  # chat where the effect is already visible (no echo needed)


# An on-call override longer than this is a typo (and far enough out overflows datetime).
MAX_OVERRIDE = timedelta(days=366)

OUTCOME_WORDS: dict[str, Outcome] = {
    "removed": Outcome.REMOVED,
    "dihapus": Outcome.REMOVED,
    "banned": Outcome.BANNED,
    "diblokir": Outcome.BANNED,
    "restricted": Outcome.RESTRICTED,
    "dibatasi": Outcome.RESTRICTED,
    "gone": Outcome.GONE,
    "hilang": Outcome.GONE,
}


class Services:
    """The bot's use cases over one database and one clock."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        roster: Roster,
        config: ServiceConfig,
        *,
        on_outbox: Callable[[], None] = lambda: None,
        on_schedule: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.roster = roster
        self.config = config
        self._on_outbox = on_outbox
        self._on_schedule = on_schedule
        self.started_at = clock.now()
        self.migrated: dict[int, int] = {}  # new chat id -> the configured id it replaces
        self._shift_index: int | None = None  # the shift last seen by handoff_if_due
        self._digest_day: str | None = None  # the day last seen by digest_if_due

    def set_listeners(
        self, on_outbox: Callable[[], None], on_schedule: Callable[[], None]
    ) -> None:
        """Wire the sender's and the timer's wake-up calls."""
        self._on_outbox = on_outbox
        self._on_schedule = on_schedule

    def _changed(self) -> None:
        self._on_outbox()
        self._on_schedule()

    # ---- who is who ---------------------------------------------------------------------

    def role_of(self, user_id: int, *, in_liaison_chat: bool = True) -> Role:
        """Role of a user: from the roster, else reporter inside the liaison chat."""
        person = self.roster.find_by_id(user_id)
        if person is not None and person.is_supervisor:
            return Role.SUPERVISOR
        if person is not None and person.is_moderator:
            return Role.MODERATOR
        return Role.REPORTER if in_liaison_chat else Role.STRANGER

    def is_rostered(self, user_id: int) -> bool:
        """True for people listed in the roster."""
        return self.roster.find_by_id(user_id) is not None

    def chat_allowed(self, chat_id: int, chat_type: str, user_id: int | None) -> bool:
        """The bot serves the liaison chat, the supervisor chat and rostered people's DMs."""
        if chat_id in (self.config.chat_id, self.config.supervisor_chat_id):
            return True
        if chat_id in self.migrated:
            return True
        if chat_type == "private":
            return user_id is not None and self.is_rostered(user_id)
        return False

    async def overrides(self, conn: Connection, now: datetime) -> list[Override]:
        """Overrides still in force at or after `now`."""
        return await repo.list_overrides(conn, now - timedelta(days=1))

    async def on_call(self, now: datetime | None = None) -> tuple[OnCall | None, Person | None]:
        """Who is on call at `now` and who backs them up."""
        at = now or self.clock.now()
        async with self.db.read() as conn:
            overrides = await self.overrides(conn, at)
        return on_call_at(self.roster, overrides, at), backup_at(self.roster, overrides, at)

    # ---- intake ---------------------------------------------------------------------------

    async def report(self, intake: Intake) -> IntakeResult:
        """Turn a message's links (or its link-less forward) into tickets, exactly once."""
        now = self.clock.now()
        if not intake.links and not intake.forwarded_without_link:
            if not intake.foreign_url:
                return IntakeResult()
            async with self.db.transaction() as conn:
                await self._say(
                    conn, intake.chat_id, "hint_no_telegram_link", now, {}, intake.message_id
                )
            self._changed()
            return IntakeResult(hinted=True)

        new: list[int] = []
        dups: list[int] = []
        async with self.db.transaction() as conn:
            overrides = await self.overrides(conn, now)
            targets: list[Link | None] = list(intake.links) or [None]
            for link in targets:
                ticket_id, created = await self._intake_one(conn, intake, link, now)
                (new if created else dups).append(ticket_id)
            if new:
                await repo.add_outbox(
                    conn,
                    intake.chat_id,
                    "card",
                    {"new": new, "dup": dups, "reply_to": intake.message_id},
                    now,
                )
                await self._page_on_call(conn, new, now, overrides)
            else:
                await self._say(
                    conn, intake.chat_id, "duplicate", now, {"tickets": dups}, intake.message_id
                )
        self._changed()
        return IntakeResult(tuple(new), tuple(dups))

    async def _intake_one(
        self, conn: Connection, intake: Intake, link: Link | None, now: datetime
    ) -> tuple[int, bool]:
        if link is not None:
            existing = await repo.find_open_by_key(conn, link.key)
            if existing is not None:
                t = dataclasses.replace(existing, report_count=existing.report_count + 1)
                await repo.save_ticket(conn, t, next_due_at(t, self.config.policy))
                await repo.add_report(
                    conn, t.id, intake.chat_id, intake.message_id, intake.reporter_id, now
                )
                await repo.add_event(
                    conn, t.id, now, intake.reporter_id, "duplicate", f"report {t.report_count}"
                )
                await self._add_evidence(conn, t.id, intake, now)
                if intake.urgent and not t.urgent:
                    await self._make_urgent(conn, t, intake.reporter_id, now)
                for chat_id, message_id in await repo.list_card_messages(conn, t.id):
                    await repo.add_outbox(
                        conn, chat_id, "refresh", {"message_id": message_id}, now
                    )
                return t.id, False
            previous = await repo.find_last_closed_by_key(conn, link.key)
        else:
            previous = None
        policy = self.config.policy
        ticket_id = await repo.add_ticket(
            conn,
            link=link.canonical if link else None,
            link_key=link.key if link else None,
            channel=link.channel if link else None,
            urgent=intake.urgent,
            reporter_id=intake.reporter_id,
            chat_id=intake.chat_id,
            report_message_id=intake.message_id,
            now=now,
            reopened_from=previous.id if previous else None,
            next_due_at=None,
        )
        await repo.add_report(
            conn, ticket_id, intake.chat_id, intake.message_id, intake.reporter_id, now
        )
        detail = link.canonical if link else f"forwarded message {intake.message_id}"
        if intake.urgent:
            detail += " (urgent)"
        await repo.add_event(conn, ticket_id, now, intake.reporter_id, "created", detail)
        if previous is not None:
            await repo.add_event(
                conn,
                ticket_id,
                now,
                intake.reporter_id,
                "reopened",
                f"content back: #{previous.id}",
            )
        await self._add_evidence(conn, ticket_id, intake, now)
        # the real next step comes from the domain, not from the guess above
        t = await repo.get_ticket(conn, ticket_id)
        await repo.save_ticket(conn, t, next_due_at(t, policy))
        return ticket_id, True

    async def _add_evidence(
        self, conn: Connection, ticket_id: int, intake: Intake, now: datetime
    ) -> None:
        ev = intake.evidence
        if not (ev.text or ev.media or ev.origin):
            return
        await repo.add_evidence(
            conn,
            ticket_id,
            now,
            text=ev.text,
            media=ev.media,
            origin=ev.origin,
            origin_chat_id=ev.origin_chat_id,
            origin_message_id=ev.origin_message_id,
            origin_date=ev.origin_date,
        )

    async def _make_urgent(self, conn: Connection, t: Ticket, actor: int, now: datetime) -> None:
        t = dataclasses.replace(t, urgent=True)
        await repo.save_ticket(conn, t, next_due_at(t, self.config.policy))
        await repo.add_event(conn, t.id, now, actor, "urgent", "marked urgent by a later report")

    async def _page_on_call(
        self,
        conn: Connection,
        ticket_ids: list[int],
        now: datetime,
        overrides: list[Override],
    ) -> None:
        """New tickets: the card mentions the on-call person; DM them; nobody -> supervisors."""
        duty = on_call_at(self.roster, overrides, now)
        if duty is None:
            for tid in ticket_ids:
                await repo.add_event(
                    conn, tid, now, None, "escalated", "nobody on call: supervisors"
                )
            await self._notify_supervisors(conn, "no_oncall", ticket_ids, now, {})
            return
        person = duty.person
        if person.telegram_id in await repo.list_dm_open(conn):
            await self._say(conn, person.telegram_id, "dm_new", now, {"tickets": ticket_ids})
        elif await self.unreachable(conn, person.telegram_id):
            for tid in ticket_ids:
                await repo.add_event(
                    conn, tid, now, None, "escalated", f"{person.name} not reachable: supervisors"
                )
            await self._notify_supervisors(
                conn, "oncall_unreachable", ticket_ids, now, {"name": person.name}
            )

    # ---- moderation ---------------------------------------------------------------------

    async def acknowledge(self, actor: int, ticket_ids: Sequence[int]) -> list[Feedback]:
        """Acknowledge (and take) tickets."""
        return await self._each(actor, ticket_ids, Role.MODERATOR, self._ack_one)

    async def _ack_one(self, conn: Connection, actor: int, t: Ticket, now: datetime) -> Feedback:
        if t.is_closed:
            return Feedback("already_closed", {"id": t.id, "status": t.status.value})
        if t.status is Status.ACKNOWLEDGED and t.assignee_id == actor:
            return Feedback("already_acked", {"id": t.id})
        new = dataclasses.replace(
            t,
            status=Status.ACKNOWLEDGED if t.status is Status.OPEN else t.status,
            acknowledged_at=t.acknowledged_at or now,
            assignee_id=actor,
        )
        await self._save(conn, new, actor, "acknowledged", "", now)
        return Feedback("acked", {"id": t.id}, changed=True)

    async def close(
        self, actor: int, ticket_ids: Sequence[int], outcome: Outcome, note: str = ""
    ) -> list[Feedback]:
        """Close tickets as actioned; `banned` also closes the channel's other open tickets."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            fb = await self._close_one(conn, a, t, now, Status.REMOVED, outcome, note)
            if outcome is Outcome.BANNED and t.channel and fb.changed:
                for other in await repo.list_open_in_channel(conn, t.channel):
                    await self._close_one(
                        conn, a, other, now, Status.REMOVED, outcome, f"channel banned (#{t.id})"
                    )
            return fb

        return await self._each(actor, ticket_ids, Role.MODERATOR, one)

    async def reject(self, actor: int, ticket_id: int, reason: str) -> list[Feedback]:
        """Close a ticket as not actionable, with a reason."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            return await self._close_one(
                conn, a, t, now, Status.REJECTED, Outcome.REJECTED, reason
            )

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def _close_one(
        self,
        conn: Connection,
        actor: int,
        t: Ticket,
        now: datetime,
        status: Status,
        outcome: Outcome,
        note: str,
    ) -> Feedback:
        if t.is_closed:
            return Feedback("already_closed", {"id": t.id, "status": t.status.value})
        paused = now - t.paused_at if t.paused_at else timedelta(0)
        new = dataclasses.replace(
            t,
            status=status,
            outcome=outcome,
            closed_at=now,
            acknowledged_at=t.acknowledged_at or now,
            assignee_id=t.assignee_id or actor,
            paused_at=None,
            paused_total=t.paused_total + paused,
        )
        kind = "rejected" if status is Status.REJECTED else "removed"
        detail = outcome.value + (f": {note}" if note else "")
        await self._save(conn, new, actor, kind, detail, now)
        await self._say(
            conn,
            t.chat_id,
            "closed_notice",
            now,
            {"tickets": [t.id], "status": status.value, "outcome": outcome.value, "note": note},
            t.report_message_id,
        )
        return Feedback("closed", {"id": t.id, "status": status.value}, True, t.chat_id)

    async def note(self, actor: int, ticket_id: int, text: str) -> list[Feedback]:
        """Add a note; a note by the reporter also answers a pending clarification."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.status is Status.CLARIFICATION and a == t.reporter_id:
                return await self._answer_clarification(conn, a, t, now, text)
            await repo.add_event(conn, t.id, now, a, "note", text)
            return Feedback("noted", {"id": t.id}, changed=True)

        return await self._each(actor, [ticket_id], Role.REPORTER, one)

    async def clarify(self, actor: int, ticket_id: int, question: str) -> list[Feedback]:
        """Ask the reporter; the clocks pause until they answer."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback("already_closed", {"id": t.id, "status": t.status.value})
            new = dataclasses.replace(
                t,
                status=Status.CLARIFICATION,
                paused_at=t.paused_at or now,
                assignee_id=t.assignee_id or a,
            )
            await self._save(conn, new, a, "clarification", question, now)
            await self._say(
                conn,
                t.chat_id,
                "clarify_question",
                now,
                {"tickets": [t.id], "question": question, "reporter": t.reporter_id},
                t.report_message_id,
                track="clarify",
            )
            return Feedback("clarify_sent", {"id": t.id}, True, t.chat_id)

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def answer_clarification(
        self, actor: int, chat_id: int, question_message_id: int, text: str
    ) -> bool:
        """A reply to the bot's question: resumes the ticket's clocks. False if not one."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            t = await repo.find_ticket_by_clarification(conn, chat_id, question_message_id)
            if t is None:
                return False
            if actor != t.reporter_id and RANK[self.role_of(actor)] < RANK[Role.MODERATOR]:
                await repo.add_event(conn, t.id, now, actor, "note", text)
            else:
                await self._answer_clarification(conn, actor, t, now, text)
        self._changed()
        return True

    async def _answer_clarification(
        self, conn: Connection, actor: int, t: Ticket, now: datetime, text: str
    ) -> Feedback:
        paused = now - t.paused_at if t.paused_at else timedelta(0)
        status = Status.ACKNOWLEDGED if t.acknowledged_at else Status.OPEN
        new = dataclasses.replace(
            t, status=status, paused_at=None, paused_total=t.paused_total + paused
        )
        await self._save(conn, new, actor, "clarified", text, now)
        mention = [new.assignee_id] if new.assignee_id else []
        await self._say(
            conn,
            t.chat_id,
            "clarified",
            now,
            {"tickets": [t.id], "paused": paused.total_seconds(), "people": mention},
        )
        return Feedback("clarified_ok", {"id": t.id}, changed=True)

    async def reopen(self, actor: int, ticket_id: int, reason: str = "") -> list[Feedback]:
        """Content is back: reopen a closed ticket with fresh deadlines."""

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if RANK[self.role_of(a)] < RANK[Role.MODERATOR] and a != t.reporter_id:
                return Feedback("not_yours", {"id": t.id})
            if not t.is_closed:
                return Feedback("not_closed", {"id": t.id})
            if t.link_key and await repo.find_open_by_key(conn, t.link_key):
                return Feedback("open_elsewhere", {"id": t.id})
            new = dataclasses.replace(
                t,
                status=Status.OPEN,
                closed_at=None,
                outcome=None,
                acknowledged_at=None,
                clock_start_at=now,
                paused_at=None,
                paused_total=timedelta(0),
                esc_step=0,
                last_escalated_at=None,
            )
            await self._save(conn, new, a, "reopened", reason, now)
            await repo.add_outbox(conn, t.chat_id, "card", {"new": [t.id], "dup": []}, now)
            await self._page_on_call(conn, [t.id], now, await self.overrides(conn, now))
            return Feedback("reopened_ok", {"id": t.id}, True, t.chat_id)

        return await self._each(actor, [ticket_id], Role.REPORTER, one)

    async def assign(self, actor: int, ticket_id: int, username: str) -> list[Feedback]:
        """Hand a ticket to another moderator."""
        person = self.roster.find_by_username(username)
        if person is None or not person.is_moderator:
            return [Feedback("unknown_moderator", {"username": username.lstrip("@")})]

        async def one(conn: Connection, a: int, t: Ticket, now: datetime) -> Feedback:
            if t.is_closed:
                return Feedback("already_closed", {"id": t.id, "status": t.status.value})
            new = dataclasses.replace(t, assignee_id=person.telegram_id)
            await self._save(conn, new, a, "assigned", f"@{person.username or person.name}", now)
            await self._say(
                conn,
                t.chat_id,
                "assigned_ping",
                now,
                {"tickets": [t.id], "people": [person.telegram_id]},
            )
            if person.telegram_id in await repo.list_dm_open(conn):
                await self._say(conn, person.telegram_id, "dm_assigned", now, {"tickets": [t.id]})
            return Feedback("assigned_ok", {"id": t.id, "name": person.name}, True, t.chat_id)

        return await self._each(actor, [ticket_id], Role.MODERATOR, one)

    async def set_on_call(self, actor: int, username: str, duration: timedelta | None) -> Feedback:
        """Override the rotation: `username` is on call from now (default: to the shift's end).

        Raises ValueError for a duration beyond MAX_OVERRIDE (a usage error, not a crash).
        """
        if RANK[self.role_of(actor)] < RANK[Role.MODERATOR]:
            return Feedback("refused", {})
        if duration is not None and duration > MAX_OVERRIDE:
            raise ValueError(f"override longer than {MAX_OVERRIDE.days} days")
        person = self.roster.find_by_username(username)
        if person is None or not person.is_moderator:
            return Feedback("unknown_moderator", {"username": username.lstrip("@")})
        now = self.clock.now()
        if duration is None:
            shift = roster_shift_at(self.roster, now)
            end = shift.end if shift else now + timedelta(hours=8)
        else:
            end = now + duration
        async with self.db.transaction() as conn:
            await repo.add_override(conn, Override(person.telegram_id, now, end), actor, now)
        self._changed()
        return Feedback("oncall_set", {"id": person.telegram_id, "until": end.isoformat()}, True)

    async def _each(
        self,
        actor: int,
        ticket_ids: Sequence[int],
        needed: Role,
        action: Callable[[Connection, int, Ticket, datetime], Any],
    ) -> list[Feedback]:
        """Run an action on each ticket in one transaction, after the role check."""
        if RANK[self.role_of(actor)] < RANK[needed]:
            return [Feedback("refused", {})]
        now = self.clock.now()
        out: list[Feedback] = []
        async with self.db.transaction() as conn:
            for tid in dict.fromkeys(ticket_ids):
                t = await repo.find_ticket(conn, tid)
                if t is None:
                    out.append(Feedback("unknown_ticket", {"id": tid}))
                    continue
                out.append(await action(conn, actor, t, now))
        if any(f.changed for f in out):
            self._changed()
        return out

    async def _save(
        self,
        conn: Connection,
        t: Ticket,
        actor: int | None,
        kind: str,
        detail: str,
        now: datetime,
    ) -> None:
        """Persist a ticket change, its event, and a refresh of every card showing it."""
        await repo.save_ticket(conn, t, next_due_at(t, self.config.policy))
        await repo.add_event(conn, t.id, now, actor, kind, detail)
        for chat_id, message_id in await repo.list_card_messages(conn, t.id):
            await repo.add_outbox(conn, chat_id, "refresh", {"message_id": message_id}, now)

    async def _say(
        self,
        conn: Connection,
        chat_id: int,
        key: str,
        now: datetime,
        args: dict[str, Any],
        reply_to: int | None = None,
        *,
        track: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {"key": key, "args": args}
        if reply_to is not None:
            payload["reply_to"] = reply_to
        if track is not None:
            payload["track"] = track
        await repo.add_outbox(conn, chat_id, "say", payload, now)

    async def say(
        self,
        chat_id: int,
        key: str,
        args: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> None:
        """Queue a rendered reply (usage hints, refusals, lists) through the outbox."""
        async with self.db.transaction() as conn:
            await self._say(conn, chat_id, key, self.clock.now(), args or {}, reply_to)
        self._on_outbox()

    async def request_figures(
        self, actor: int, chat_id: int, what: str, days: int, reply_to: int | None
    ) -> Feedback:
        """Supervisors' /stats, /report and /export: queued, rendered by the sender."""
        if RANK[self.role_of(actor)] < RANK[Role.SUPERVISOR]:
            return Feedback("refused", {})
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if what == "stats":
                await self._say(conn, chat_id, "stats", now, {"days": days}, reply_to)
            else:
                payload: dict[str, Any] = {"days": days}
                if reply_to is not None:
                    payload["reply_to"] = reply_to
                await repo.add_outbox(conn, chat_id, what, payload, now)
        self._on_outbox()
        return Feedback("queued", {}, changed=True, shown_in=chat_id)

    def is_own_chat(self, chat_id: int | None) -> bool:
        """One of the configured chats."""
        return chat_id is not None and chat_id in (
            self.config.chat_id,
            self.config.supervisor_chat_id,
        )

    async def chat_migrated(self, old_id: int, new_id: int) -> None:
        """A configured group became a supergroup: serve the new id and say how to configure it."""
        self.migrated[new_id] = old_id
        log.error(
            "chat %s became supergroup %s: set LIAISON_%sCHAT_ID=%s and restart",
            old_id,
            new_id,
            "SUPERVISOR_" if old_id == self.config.supervisor_chat_id else "",
            new_id,
        )
        await self.say(new_id, "chat_migrated", {"new": new_id})

    async def leave(self, chat_id: int) -> None:
        """Say why, then leave a chat the bot does not serve."""
        async with self.db.transaction() as conn:
            await repo.add_outbox(conn, chat_id, "leave", {}, self.clock.now())
        self._on_outbox()

    async def mark_dm(self, user_id: int, is_open: bool) -> None:
        """Someone started the bot (True) or refused a DM (False)."""
        async with self.db.transaction() as conn:
            await repo.mark_dm_open(conn, user_id, is_open, self.clock.now())

    async def unreachable(self, conn: Connection, telegram_id: int) -> bool:
        """Known to have left the liaison chat (the card's mention does not reach them) and
        without direct messages from the bot."""
        if telegram_id in await repo.list_dm_open(conn):
            return False
        return telegram_id in await repo.list_left_chat(conn)

    async def mark_in_chat(self, user_ids: Sequence[int], present: bool) -> None:
        """Rostered people joined (True) or left (False) the liaison chat."""
        rostered = [u for u in user_ids if self.is_rostered(u)]
        if not rostered:
            return
        async with self.db.transaction() as conn:
            for user_id in rostered:
                await repo.mark_in_chat(conn, user_id, present)

    # ---- escalation -----------------------------------------------------------------------

    async def escalate_due(self) -> int:
        """Fire every escalation step due now, exactly once; returns how many fired."""
        now = self.clock.now()
        policy = self.config.policy
        reminders: list[int] = []
        overdue: list[int] = []
        fired = 0
        async with self.db.read() as conn:
            soonest = await repo.find_next_due_at(conn)
        if soonest is None or soonest > now:
            return 0  # the common case: nothing due, so no write transaction at all
        async with self.db.transaction() as conn:
            for t in await repo.list_due_tickets(conn, now):
                steps = due_steps(t, policy, now)
                if not steps:
                    await repo.save_ticket(conn, t, next_due_at(t, policy))
                    continue
                for step in steps:
                    detail = f"step {step.number}: {step.kind.value}"
                    if step.kind is StepKind.REPEAT:
                        detail += f", {int(step.overdue_by.total_seconds())}s past the deadline"
                    await repo.add_event(conn, t.id, now, None, "escalated", detail)
                fired += len(steps)
                last = steps[-1]
                new = dataclasses.replace(t, esc_step=last.number, last_escalated_at=now)
                await repo.save_ticket(conn, new, next_due_at(new, policy))
                (reminders if last.kind is StepKind.ACK_REMINDER else overdue).append(t.id)
                if last.kind is StepKind.OVERDUE:
                    for chat_id, message_id in await repo.list_card_messages(conn, t.id):
                        await repo.add_outbox(
                            conn, chat_id, "refresh", {"message_id": message_id}, now
                        )
            if reminders:
                await self._remind(conn, reminders, now)
            if overdue:
                await self._notify_supervisors(conn, "overdue", overdue, now, {})
        if fired:
            self._on_outbox()
        return fired

    async def _remind(self, conn: Connection, ids: list[int], now: datetime) -> None:
        overrides = await self.overrides(conn, now)
        duty = on_call_at(self.roster, overrides, now)
        backup = backup_at(self.roster, overrides, now)
        people = [p.telegram_id for p in (duty.person if duty else None, backup) if p]
        if not people:
            await self._notify_supervisors(conn, "no_oncall", ids, now, {})
            return
        await self._say(
            conn, self.config.chat_id, "ack_reminder", now, {"tickets": ids, "people": people}
        )
        dm_open = await repo.list_dm_open(conn)
        for person_id in people:
            if person_id in dm_open:
                await self._say(conn, person_id, "dm_reminder", now, {"tickets": ids})

    async def _notify_supervisors(
        self,
        conn: Connection,
        key: str,
        ids: list[int],
        now: datetime,
        args: dict[str, Any],
    ) -> None:
        supervisors = [p.telegram_id for p in self.roster.supervisors]
        body = {"tickets": ids, "people": supervisors, **args}
        target = self.config.supervisor_chat_id or self.config.chat_id
        await self._say(conn, target, key, now, body)
        dm_open = await repo.list_dm_open(conn)
        for person_id in supervisors:
            if person_id in dm_open:
                await self._say(conn, person_id, key, now, body)

    async def next_wakeup(self) -> datetime | None:
        """The earliest instant at which the timer has something to do."""
        async with self.db.read() as conn:
            due = await repo.find_next_due_at(conn)
        candidates = [d for d in (due, self.next_shift_change(), self.next_digest()) if d]
        return min(candidates) if candidates else None

    # ---- shifts and digest ----------------------------------------------------------------

    def next_shift_change(self) -> datetime | None:
        """The next shift boundary after now."""
        return roster_next_shift_change(self.roster, self.clock.now())

    async def handoff_if_due(self) -> bool:
        """At a shift change, post who hands over to whom and the most pressing tickets."""
        now = self.clock.now()
        shift = roster_shift_at(self.roster, now)
        if shift is None or shift.index == self._shift_index:
            return False
        self._shift_index = shift.index
        async with self.db.transaction() as conn:
            last = await repo.find_meta(conn, "last_shift_index")
            await repo.set_meta(conn, "last_shift_index", str(shift.index))
            if last is None or int(last) >= shift.index:
                return False
            overrides = await self.overrides(conn, now)
            before = on_call_at(self.roster, overrides, shift.start - timedelta(microseconds=1))
            after = on_call_at(self.roster, overrides, now)
            tickets = await repo.list_open_tickets(conn)
            tickets.sort(key=lambda t: effective_deadline(t, self.config.policy, now))
            await self._say(
                conn,
                self.config.chat_id,
                "handoff",
                now,
                {
                    "from": before.person.telegram_id if before else None,
                    "to": after.person.telegram_id if after else None,
                    "until": shift.end.isoformat(),
                    "tickets": [t.id for t in tickets[:10]],
                    "open": len(tickets),
                },
            )
        self._on_outbox()
        return True

    def next_digest(self) -> datetime | None:
        """The next daily digest instant."""
        at = self.config.digest_at
        if at is None:
            return None
        local = self.clock.now().astimezone(self.config.zone)
        today = datetime.combine(local.date(), at, tzinfo=self.config.zone)
        return today if today > local else today + timedelta(days=1)

    async def digest_if_due(self) -> bool:
        """Once a day at the configured hour: open, overdue, closed in the last day."""
        at = self.config.digest_at
        if at is None:
            return False
        now = self.clock.now()
        local = now.astimezone(self.config.zone)
        if local.time() < at:
            return False
        day = local.date().isoformat()
        if day == self._digest_day:
            return False
        self._digest_day = day
        started = self.started_at.astimezone(self.config.zone)
        async with self.db.transaction() as conn:
            last = await repo.find_meta(conn, "last_digest_day")
            if last == day:
                return False
            await repo.set_meta(conn, "last_digest_day", day)
            if last is None and started.date() == local.date() and started.time() > at:
                return False  # first start, after today's digest hour: the first is tomorrow
            await self._say(conn, self.config.chat_id, "digest", now, {"day": day})
        self._on_outbox()
        return True

    # ---- retention ------------------------------------------------------------------------

    async def purge_evidence(self) -> int:
        """Drop evidence of tickets closed longer ago than the retention period."""
        now = self.clock.now()
        cutoff = now - self.config.evidence_retention
        purged = 0
        async with self.db.transaction() as conn:
            for tid in await repo.list_purgeable_evidence(conn, cutoff):
                n = await repo.delete_evidence(conn, tid)
                await repo.add_event(conn, tid, now, None, "evidence_purged", f"{n} item(s)")
                purged += 1
        if purged:
            log.info("evidence purged for %d ticket(s) closed before %s", purged, cutoff.date())
        return purged

    # ---- reading --------------------------------------------------------------------------

    async def find_ticket(self, ticket_id: int) -> Ticket | None:
        """A ticket by number."""
        async with self.db.read() as conn:
            return await repo.find_ticket(conn, ticket_id)

    async def tickets_on_message(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets a bot message is about (for commands sent as replies)."""
        async with self.db.read() as conn:
            return [t.id for t in await repo.list_tickets_on_card(conn, chat_id, message_id)]

    async def ticket_for_report(self, chat_id: int, message_id: int) -> list[int]:
        """Tickets created from a given report message."""
        async with self.db.read() as conn:
            return await repo.list_tickets_of_report(conn, chat_id, message_id)


def today_local(now: datetime, zone: ZoneInfo) -> date:
    """The calendar day at `now` in the display zone."""
    return now.astimezone(zone).date()
