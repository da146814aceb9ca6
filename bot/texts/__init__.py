"""Everything the bot says, in Bahasa Indonesia and English (HTML parse mode).

The words live in the gettext catalogues under bot/locale (see bot.texts.catalogue); this
module puts them together with tickets, people and instants. Pure presentation: no
telegram imports, and no I/O after the catalogues are read at import. Rendering is shared
by the handlers and the outbox sender, which is why it lives in bot/ rather than handlers/.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.domain.proof import RECEIPT_DIGITS
from bot.domain.proof import receipt as proof_receipt
from bot.domain.roster import OnCall, Person, Roster
from bot.domain.tickets import (
    EscalationPolicy,
    Status,
    Ticket,
    effective_deadline,
    standard_policy,
)
from bot.texts.catalogue import LANGUAGES, Catalogue, load_all

LIMIT = 4096
CARD_TICKETS = 40  # at most this many tickets on one grouped card message
LINE_GROWTH = 40  # how much longer a card line may get (status, overdue mark) when edited
RECEIPT_PART = " · 🧾 "  # a grouped card's line ends with this and its ticket's receipt
DUP_LINE_BUDGET = 1500  # the "already tracked" line of a card lists at most about this much
ACK = "ack:"
DONE = "done:"
REJECT = "rej:"
ACK_ALL = "ackall"
CATEGORY = "cat:"  # cat:N shows the category list, cat:N:key sets the category
CATEGORY_BACK = "catback:"  # catback:N shows the card's buttons again
CALLBACK_MAX = 64  # bytes of callback data Telegram accepts

Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready to send: HTML text, optional inline buttons, reply target."""

    text: str
    buttons: Buttons | None = None
    reply_to: int | None = None
    ticket_ids: tuple[int, ...] = ()
    track: str | None = None  # "card" / "clarify": remember which tickets this message shows
    anchor: tuple[int, str] | None = None  # the chain head (seq, hash) this message shows


CATALOGUES = load_all()  # read, checked and compiled once, at import (that is, at start)

# the help and usage texts, as the renderer reads them: per command or role, per language
USAGE: dict[str, dict[str, str]] = {
    cmd: {lang: c.particular("usage", cmd) for lang, c in CATALOGUES.items()}
    for cmd in CATALOGUES[LANGUAGES[0]].keys("usage")
}
HELP: dict[str, dict[str, list[str]]] = {
    level: {lang: c.particular("help", level).split("\n") for lang, c in CATALOGUES.items()}
    for level in CATALOGUES[LANGUAGES[0]].keys("help")
}

# Keys from before plural forms: the count they stood for (`new_tickets_one` is
# `new_tickets` for 1). Callers should ask `Texts.plural(key, n)` instead.
SINGULAR_KEYS = {"new_tickets_one": ("new_tickets", 1)}

WHEN = "dd MMM HH:mm"  # Babel (CLDR) pattern: "23 Nov 14:30", "03 Agu 08:05"
WHEN_SECONDS = "dd MMM HH:mm:ss"
SPAN_UNITS = ("span_days", "span_hours", "span_minutes", "span_seconds")


def link_to_message(chat_id: int, message_id: int) -> str | None:
    """t.me link to a message of a supergroup (basic groups have none)."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{message_id}"


@dataclass
class Texts:
    """Renders messages in one language and time zone."""

    lang: str
    zone: ZoneInfo
    roster: Roster
    policy: EscalationPolicy = field(default_factory=standard_policy)

    catalogue: Catalogue = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            self.catalogue = CATALOGUES[self.lang]
        except KeyError:
            raise ValueError(f"no catalogue for language {self.lang!r}") from None

    def t(self, key: str, **args: object) -> str:
        """One message in the configured language; a plural one takes its count from `n`."""
        if key in SINGULAR_KEYS:
            key, one = SINGULAR_KEYS[key]
            return self.plural(key, one, **args)
        if self.catalogue.is_plural(key):
            count = args.get("n")
            if not isinstance(count, int):
                raise TypeError(f"{key!r} has plural forms: give its count as n=")
            return self.plural(key, count, **args)
        template = self.catalogue.text(key)
        return template.format(**args) if args else template

    def plural(self, key: str, n: int, /, **args: object) -> str:
        """The form of a plural message for the count `n` (also its `{n}`)."""
        return self.catalogue.plural(key, n).format(**{**args, "n": n})

    # ---- small pieces ---------------------------------------------------------------

    def when(self, at: datetime, *, seconds: bool = False) -> str:
        """An instant in the display zone, e.g. '23 Nov 14:30 WIB'."""
        pattern = WHEN_SECONDS if seconds else WHEN
        text = format_datetime(at, pattern, tzinfo=self.zone, locale=self.catalogue.locale)
        # the zone's own abbreviation (WIB): CLDR has none for Jakarta in English
        return f"{text} {at.astimezone(self.zone).tzname() or ''}".rstrip()

    def span(self, delta: timedelta) -> str:
        """A duration, at most two parts, e.g. '1j 30m' / '1h 30m'."""
        seconds = max(0, int(delta.total_seconds()))
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        values = (days, hours, minutes, secs)
        parts = [self.t(unit, n=v) for v, unit in zip(values, SPAN_UNITS, strict=True) if v]
        return " ".join(parts[:2]) if parts else self.t(SPAN_UNITS[-1], n=0)

    def person(self, person_id: int | None, *, phone: bool = True) -> str:
        """A mention that notifies: name link, @username and phone."""
        if person_id is None:
            return "—"
        p = self.roster.find_by_id(person_id)
        if p is None:
            return f'<a href="tg://user?id={person_id}">{self.t("reporter")}</a>'
        return self.mention(p, phone=phone)

    def mention(self, p: Person, *, phone: bool = True) -> str:
        """Mention a rostered person."""
        out = f'<a href="tg://user?id={p.telegram_id}">{escape(p.name)}</a>'
        if p.username:
            out += f" @{escape(p.username)}"
        if phone and p.phone:
            out += f" · {escape(p.phone)}"
        return out

    def people(self, ids: Iterable[int], *, phone: bool = False) -> str:
        """Several mentions."""
        names = [self.person(i, phone=phone) for i in ids]
        return ", ".join(names) if names else "—"

    def ref(self, t: Ticket) -> str:
        """'#12 https://t.me/x/1' for lists."""
        target = escape(t.link) if t.link else self.forward_ref(t)
        return f"#{t.id} {target}"

    def forward_ref(self, t: Ticket) -> str:
        """Where a link-less forwarded report sits in the chat."""
        url = link_to_message(t.chat_id, t.report_message_id)
        label = self.t("forwarded")
        return f'<a href="{url}">{label}</a>' if url else f"({label})"

    def status(self, t: Ticket) -> str:
        """Status word, with the outcome for closed tickets."""
        word = self.t(f"st_{t.status.value}")
        if t.status is Status.REMOVED and t.outcome is not None:
            word += f" — {self.t(f'oc_{t.outcome.value}')}"
        return word

    def deadline(self, t: Ticket, now: datetime) -> str:
        """Deadline in local time with what is left (or how late)."""
        if t.paused_at is not None:
            return self.t("paused")
        due = effective_deadline(t, self.policy, now)
        if due > now:
            return self.t("deadline_line", at=self.when(due))
        return self.t("deadline_line", at=self.when(due)) + " " + self.t("late_mark")

    # ---- cards ----------------------------------------------------------------------

    def card(
        self,
        t: Ticket,
        now: datetime,
        duty: OnCall | None,
        channel_open: int,
        dups: Sequence[Ticket] = (),
        receipt: str | None = None,
    ) -> Rendered:
        """The full card of one ticket, with buttons while it is open.

        `dups`: tickets the same report named that were already tracked; `receipt`: the hash
        of its `created` event (the card shows the first 8 hex digits, SPEC "Proof").
        """
        head = f"📌 <b>{self.t('new_ticket')} #{t.id}</b>"
        if t.urgent:
            head += " · " + self.t("urgent")
        lines = [head, escape(t.link) if t.link else self.forward_ref(t)]
        category = self.policy.categories.get(t.category).name(self.lang)
        lines.append(self.t("category_line", name=escape(category)))
        lines.append(self.t("status_line", status=self.status(t)))
        if t.is_closed and t.closed_at is not None:
            lines.append(
                self.t(
                    "closed_line",
                    at=self.when(t.closed_at),
                    who=self.person(t.assignee_id, phone=False),
                )
            )
        else:
            lines.append(self.deadline(t, now))
            lines.append(self._duty_line(duty))
            if t.assignee_id is not None:
                lines.append(self.t("holder_line", who=self.person(t.assignee_id, phone=False)))
        if channel_open > 1:
            lines.append(self.t("channel_line", n=channel_open))
        if t.report_count > 1:
            lines.append(self.t("count_line", n=t.report_count))
        if t.reopened_from is not None:
            lines.append(self.t("back_line", id=t.reopened_from))
        if receipt:
            lines.append(self.t("receipt_line", receipt=proof_receipt(receipt)))
        if dups:
            lines.append(self.dup_line(dups))
        buttons = None if t.is_closed else self.card_buttons(t.id)
        return Rendered("\n".join(lines), buttons, ticket_ids=(t.id,), track="card")

    def card_buttons(self, ticket_id: int) -> Buttons:
        """[Acknowledge] [Removed] [Reject], and [Category] on a row of its own."""
        return [
            [
                (self.t("btn_ack"), f"{ACK}{ticket_id}"),
                (self.t("btn_done"), f"{DONE}{ticket_id}"),
                (self.t("btn_reject"), f"{REJECT}{ticket_id}"),
            ],
            [(self.t("btn_category"), f"{CATEGORY}{ticket_id}")],
        ]

    def category_buttons(self, ticket_id: int) -> Buttons:
        """One button per category of the table (two a row, in table order), then
        [Back]. A key too long for the 64 bytes of callback data gets no button (`/category`
        still sets it)."""
        buttons: list[tuple[str, str]] = []
        for c in self.policy.categories.items:
            data = f"{CATEGORY}{ticket_id}:{c.key}"
            if len(data.encode()) <= CALLBACK_MAX:
                buttons.append((c.name(self.lang), data))
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        return [*rows, [(self.t("btn_back"), f"{CATEGORY_BACK}{ticket_id}")]]

    def _duty_line(self, duty: OnCall | None) -> str:
        if duty is None:
            return self.t("nobody_oncall")
        return self.t("oncall_line", who=self.mention(duty.person))

    def dup_line(self, dups: Sequence[Ticket]) -> str:
        """'Already tracked: #3 … (reported 2×), …', capped so a card always fits."""
        parts: list[str] = []
        size = 0
        for d in dups:
            part = self.t("dup_line", ref=self.ref(d), n=d.report_count)
            if parts and size + len(part) > DUP_LINE_BUDGET:
                parts.append(f"… +{len(dups) - len(parts)}")
                break
            parts.append(part)
            size += len(part) + 2
        return self.t("already_open") + ": " + ", ".join(parts)

    def card_chunks(
        self, tickets: Sequence[Ticket], dups: Sequence[Ticket], now: datetime
    ) -> list[list[Ticket]]:
        """Tickets per grouped card message: each message must still fit after later edits.

        A card is edited in place from the tickets it shows alone, so every message is
        complete by itself (its own head and tail) and keeps room for its lines to grow
        (a longer status, an overdue mark).
        """
        reserve = 200 + (len(self.dup_line(dups)) if dups else 0)  # head, on-call line, dups
        budget = LIMIT - 64 - reserve
        chunks: list[list[Ticket]] = [[]]
        size = 0
        for t in tickets:
            grown = len(self.ticket_line(t, now)) + LINE_GROWTH + 1
            grown += len(RECEIPT_PART) + RECEIPT_DIGITS  # the receipt each line ends with
            if chunks[-1] and (size + grown > budget or len(chunks[-1]) >= CARD_TICKETS):
                chunks.append([])
                size = 0
            chunks[-1].append(t)
            size += grown
        return [c for c in chunks if c]

    def group_card(
        self,
        tickets: Sequence[Ticket],
        dups: Sequence[Ticket],
        now: datetime,
        duty: OnCall | None,
        receipts: Mapping[int, str] | None = None,
    ) -> Rendered:
        """Several tickets in one message (several links, or a burst); see card_chunks.
        Each line ends with its ticket's receipt (`receipts`: the `created` hashes)."""
        found = receipts or {}
        lines = [
            self.ticket_line(t, now)
            + (RECEIPT_PART + proof_receipt(found[t.id]) if t.id in found else "")
            for t in tickets
        ]
        tail = [self._duty_line(duty)] if any(not t.is_closed for t in tickets) else []
        if dups:
            tail.append(self.dup_line(dups))
        head = self.plural("new_tickets", len(tickets))
        open_n = sum(1 for t in tickets if not t.is_closed)
        # a chunk made by card_chunks fits; this only cuts what could not be made to fit
        text = split_lines(lines, head=head, tail=tail)[0]
        buttons = [[(self.t("btn_ack_all", n=open_n), ACK_ALL)]] if open_n else None
        return Rendered(text, buttons, ticket_ids=tuple(t.id for t in tickets), track="card")

    def ticket_line(self, t: Ticket, now: datetime) -> str:
        """One line of a list: number, link, status, deadline."""
        parts = [self.ref(t)]
        if t.urgent:
            parts.append("🔴")
        parts.append(self.status(t))
        if not t.is_closed:
            due = effective_deadline(t, self.policy, now)
            if t.paused_at is not None:
                parts.append("⏸")
            elif due <= now:
                parts.append(self.t("late", d=self.span(now - due)))
            else:
                parts.append(self.when(due))
        return " · ".join(parts)


def split_text(text: str) -> list[str]:
    """A long message (made of lines) as several that each fit Telegram's limit."""
    return split_lines(text.split("\n"))


def split_lines(lines: Sequence[str], *, head: str = "", tail: Sequence[str] = ()) -> list[str]:
    """Join lines into messages of at most LIMIT characters, never cutting a line."""
    budget = LIMIT - 64  # room for a continuation mark
    chunks: list[list[str]] = [[head] if head else []]
    size = len(head)
    for line in [*lines, *tail]:
        line = line if len(line) <= budget else line[: budget - 1] + "…"
        if size + len(line) + 1 > budget and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    texts = ["\n".join(c) for c in chunks if c]
    if len(texts) > 1:
        texts = [f"{text}\n({i}/{len(texts)})" for i, text in enumerate(texts, start=1)]
    return texts or [""]
