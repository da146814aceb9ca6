"""Everything the bot says, in Bahasa Indonesia and English (HTML parse mode).

Pure presentation: no telegram imports, no I/O. Rendering is shared by the handlers and the
outbox sender, which is why it lives in bot/ rather than handlers/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from bot.domain.roster import OnCall, Person, Roster
from bot.domain.tickets import EscalationPolicy, Status, Ticket, effective_deadline

LIMIT = 4096
CARD_TICKETS = 40  # at most this many tickets on one grouped card message
LINE_GROWTH = 40  # how much longer a card line may get (status, overdue mark) when edited
DUP_LINE_BUDGET = 1500  # the "already tracked" line of a card lists at most about this much
ACK = "ack:"
DONE = "done:"
REJECT = "rej:"
ACK_ALL = "ackall"

Buttons = list[list[tuple[str, str]]]
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready to send: HTML text, optional inline buttons, reply target."""

    text: str
    buttons: Buttons | None = None
    reply_to: int | None = None
    ticket_ids: tuple[int, ...] = ()
    track: str | None = None  # "card" / "clarify": remember which tickets this message shows


T: dict[str, dict[str, str]] = {
    # intake
    "hint_no_telegram_link": {
        "id": "ℹ️ Tidak ada tautan Telegram di pesan ini. Kirim tautan t.me atau teruskan postingannya.",
        "en": "ℹ️ No Telegram link in this message. Send a t.me link or forward the post.",
    },
    "duplicate": {
        "id": "🔁 Sudah dilacak: {tickets}",
        "en": "🔁 Already tracked: {tickets}",
    },
    "dup_line": {"id": "{ref} (dilaporkan {n}×)", "en": "{ref} (reported {n}×)"},
    "new_ticket": {"id": "Tiket", "en": "Ticket"},
    "reporter": {"id": "Pelapor", "en": "Reporter"},
    "new_tickets": {"id": "📥 {n} tiket baru", "en": "📥 {n} new tickets"},
    "new_tickets_one": {"id": "📥 1 tiket baru", "en": "📥 1 new ticket"},
    "already_open": {"id": "Sudah dilacak", "en": "Already tracked"},
    "urgent": {"id": "🔴 MENDESAK", "en": "🔴 URGENT"},
    "forwarded": {
        "id": "pesan terusan tanpa tautan publik",
        "en": "forwarded message, no public link",
    },
    "status_line": {"id": "Status: <b>{status}</b>", "en": "Status: <b>{status}</b>"},
    "deadline_line": {"id": "Tenggat: {at}", "en": "Deadline: {at}"},
    "late_mark": {"id": "⚠️ TERLAMBAT", "en": "⚠️ OVERDUE"},
    "late": {"id": "⚠️ TERLAMBAT {d}", "en": "⚠️ OVERDUE by {d}"},
    "paused": {"id": "⏸ dijeda, menunggu pelapor", "en": "⏸ paused, waiting for the reporter"},
    "oncall_line": {"id": "Piket: {who}", "en": "On call: {who}"},
    "nobody_oncall": {
        "id": "Piket: — (tidak ada; supervisor diberi tahu)",
        "en": "On call: — (nobody; supervisors told)",
    },
    "holder_line": {"id": "Ditangani: {who}", "en": "Held by: {who}"},
    "channel_line": {
        "id": "Channel ini: {n} tiket terbuka",
        "en": "This channel: {n} open tickets",
    },
    "count_line": {"id": "Dilaporkan {n}×", "en": "Reported {n}×"},
    "back_line": {
        "id": "Konten muncul lagi: tiket lama #{id}",
        "en": "Content is back: earlier ticket #{id}",
    },
    "closed_line": {"id": "Ditutup {at} oleh {who}", "en": "Closed {at} by {who}"},
    "btn_ack": {"id": "✅ Terima", "en": "✅ Acknowledge"},
    "btn_done": {"id": "🗑 Dihapus", "en": "🗑 Removed"},
    "btn_reject": {"id": "✖️ Tolak", "en": "✖️ Reject"},
    "btn_ack_all": {"id": "✅ Terima semua ({n})", "en": "✅ Acknowledge all ({n})"},
    # statuses and outcomes
    "st_open": {"id": "Terbuka", "en": "Open"},
    "st_acknowledged": {"id": "Diterima", "en": "Acknowledged"},
    "st_clarification": {"id": "Menunggu klarifikasi", "en": "Waiting for clarification"},
    "st_removed": {"id": "Ditindak", "en": "Actioned"},
    "st_rejected": {"id": "Ditolak", "en": "Rejected"},
    "oc_removed": {"id": "dihapus", "en": "removed"},
    "oc_banned": {"id": "channel diblokir", "en": "channel banned"},
    "oc_restricted": {"id": "dibatasi di Indonesia", "en": "restricted in Indonesia"},
    "oc_gone": {"id": "sudah tidak tersedia", "en": "already gone"},
    "oc_rejected": {"id": "tidak dapat ditindak", "en": "not actionable"},
    # moderation feedback
    "acked": {"id": "✅ #{id} diterima.", "en": "✅ #{id} acknowledged."},
    "already_acked": {"id": "#{id} sudah Anda terima.", "en": "#{id} is already yours."},
    "already_closed": {"id": "#{id} sudah ditutup.", "en": "#{id} is already closed."},
    "closed": {"id": "☑️ #{id} ditutup.", "en": "☑️ #{id} closed."},
    "noted": {"id": "📝 Catatan ditambahkan ke #{id}.", "en": "📝 Note added to #{id}."},
    "clarify_sent": {
        "id": "❓ Pertanyaan untuk #{id} dikirim; tenggat dijeda.",
        "en": "❓ Question on #{id} sent; deadline paused.",
    },
    "clarified_ok": {"id": "▶️ #{id} dilanjutkan.", "en": "▶️ #{id} resumed."},
    "not_yours": {"id": "#{id} bukan laporan Anda.", "en": "#{id} is not your report."},
    "not_closed": {"id": "#{id} masih terbuka.", "en": "#{id} is still open."},
    "open_elsewhere": {
        "id": "Konten #{id} sudah dilacak di tiket lain yang terbuka.",
        "en": "The content of #{id} is tracked by another open ticket.",
    },
    "reopened_ok": {
        "id": "🔄 #{id} dibuka kembali dengan tenggat baru.",
        "en": "🔄 #{id} reopened with fresh deadlines.",
    },
    "unknown_moderator": {
        "id": "@{username} bukan moderator di roster.",
        "en": "@{username} is not a moderator in the roster.",
    },
    "assigned_ok": {"id": "👤 #{id} diserahkan ke {name}.", "en": "👤 #{id} handed to {name}."},
    "queued": {"id": "⏳ Sedang disiapkan…", "en": "⏳ Preparing…"},
    "refused": {
        "id": "⛔ Perintah ini bukan untuk peran Anda.",
        "en": "⛔ This command is not for your role.",
    },
    "unknown_ticket": {"id": "Tiket #{id} tidak ada.", "en": "There is no ticket #{id}."},
    "oncall_set": {
        "id": "📟 Piket sekarang {who} sampai {until}.",
        "en": "📟 On call now: {who} until {until}.",
    },
    "reject_hint": {
        "id": "Tulis alasannya: /reject {id} <alasan>",
        "en": "Give a reason: /reject {id} <reason>",
    },
    # notifications
    "closed_notice": {
        "id": "☑️ Laporan Anda {ref}: {status} ({outcome}).{note}",
        "en": "☑️ Your report {ref}: {status} ({outcome}).{note}",
    },
    "clarify_question": {
        "id": "❓ {who}, moderator bertanya tentang {ref}:\n<i>{question}</i>\nBalas pesan ini untuk menjawab (tenggat dijeda).",
        "en": "❓ {who}, the moderator asks about {ref}:\n<i>{question}</i>\nReply to this message to answer (deadline paused).",
    },
    "clarified": {
        "id": "▶️ Pelapor menjawab {ref}; tenggat bergeser {d}. {who}",
        "en": "▶️ The reporter answered {ref}; deadline moved by {d}. {who}",
    },
    "assigned_ping": {
        "id": "👤 {ref} sekarang ditangani {who}.",
        "en": "👤 {ref} is now held by {who}.",
    },
    "dm_new": {
        "id": "📟 Tiket baru untuk Anda di chat penghubung: {tickets}",
        "en": "📟 New ticket(s) for you in the liaison chat: {tickets}",
    },
    "dm_assigned": {"id": "👤 Anda menerima {tickets}.", "en": "👤 You were handed {tickets}."},
    "ack_reminder": {
        "id": "⏰ Belum diterima setelah {d}:",
        "en": "⏰ Not acknowledged after {d}:",
    },
    "ack_reminder_tail": {"id": "{who} — mohon ditindaklanjuti.", "en": "{who} — please act."},
    "dm_reminder": {
        "id": "⏰ Masih belum diterima: {tickets}",
        "en": "⏰ Still not acknowledged: {tickets}",
    },
    "overdue": {
        "id": "🚨 ESKALASI — melewati tenggat:",
        "en": "🚨 ESCALATION — past the deadline:",
    },
    "no_oncall": {
        "id": "🚨 Tidak ada moderator piket; tiket baru langsung ke supervisor:",
        "en": "🚨 Nobody is on call; new tickets go straight to supervisors:",
    },
    "oncall_unreachable": {
        "id": "🚨 {name} (piket) sudah keluar dari chat penghubung dan tidak bisa menerima "
        "pesan langsung; tiket baru langsung ke supervisor:",
        "en": "🚨 {name}, on call, has left the liaison chat and cannot get direct messages; "
        "new tickets go straight to supervisors:",
    },
    "supervisors_tail": {"id": "Supervisor: {who}", "en": "Supervisors: {who}"},
    "overdue_by": {"id": "terlambat {d}", "en": "overdue by {d}"},
    "handoff": {
        "id": "🔁 Pergantian piket: {from_} ➜ {to} (sampai {until}). {open} tiket terbuka.{lines}",
        "en": "🔁 Shift change: {from_} ➜ {to} (until {until}). {open} open tickets.{lines}",
    },
    "digest": {
        "id": "🗓 Ringkasan harian: {open} terbuka, {overdue} terlambat, {closed} ditutup dalam 24 jam terakhir.{lines}",
        "en": "🗓 Daily digest: {open} open, {overdue} overdue, {closed} closed in the last 24 hours.{lines}",
    },
    "chat_migrated": {
        "id": "⚠️ Grup ini ditingkatkan menjadi supergrup dengan id baru {new}. Operator: set LIAISON_CHAT_ID={new} (atau LIAISON_SUPERVISOR_CHAT_ID) lalu mulai ulang bot.",
        "en": "⚠️ This group was upgraded to a supergroup with the new id {new}. Operator: set LIAISON_CHAT_ID={new} (or LIAISON_SUPERVISOR_CHAT_ID) and restart the bot.",
    },
    "leave_reason": {
        "id": "Bot ini hanya melayani chat penghubung Kominfo–Telegram. Saya keluar dari grup ini.",
        "en": "This bot serves only the ministry–Telegram liaison chat. Leaving this group.",
    },
    "not_served": {
        "id": "Bot ini hanya melayani orang yang terdaftar di roster chat penghubung.",
        "en": "This bot serves only the people listed in the liaison chat's roster.",
    },
    "dm_started": {
        "id": "👋 Halo {name}. Anda akan menerima pesan langsung untuk tiket dan eskalasi.",
        "en": "👋 Hello {name}. You will get direct messages for tickets and escalations.",
    },
    "privacy_warning": {
        "id": "⚠️ Bot tidak dapat membaca semua pesan grup (mode privasi aktif), jadi pesan terusan tidak terlihat. Perbaikan: BotFather /setprivacy → Disable, atau jadikan bot admin, lalu tambahkan ulang ke grup.",
        "en": "⚠️ The bot cannot read all group messages (privacy mode is on), so forwards are invisible to it. Fix: BotFather /setprivacy → Disable, or make the bot an admin, then re-add it to the group.",
    },
    "oncall_info": {
        "id": "📟 Piket sekarang: {who}\nsampai {until}{override}{unreachable}\nCadangan: {backup}"
        "\nBerikutnya: {next}",
        "en": "📟 On call now: {who}\nuntil {until}{override}{unreachable}\nBackup: {backup}"
        "\nNext: {next}",
    },
    "oncall_unreachable_mark": {
        "id": "\n⚠️ sudah keluar dari chat penghubung dan belum memulai bot: tiket baru "
        "langsung ke supervisor",
        "en": "\n⚠️ has left the liaison chat and has not started the bot: new tickets go "
        "straight to supervisors",
    },
    "oncall_none": {
        "id": "📟 Tidak ada yang piket sekarang; tiket baru langsung ke supervisor.",
        "en": "📟 Nobody is on call now; new tickets go straight to supervisors.",
    },
    "override_mark": {"id": " (penggantian manual)", "en": " (manual override)"},
    "open_none": {"id": "Tidak ada tiket terbuka. 👍", "en": "No open tickets. 👍"},
    "open_head": {
        "id": "📋 {n} tiket terbuka (tenggat terdekat dulu):",
        "en": "📋 {n} open tickets (nearest deadline first):",
    },
    "history_head": {"id": "Riwayat:", "en": "History:"},
    "evidence_line": {"id": "Bukti: {n} item disimpan", "en": "Evidence: {n} item(s) kept"},
    "error": {
        "id": "⚠️ Terjadi kesalahan; coba lagi.",
        "en": "⚠️ Something went wrong; please try again.",
    },
    "ids_usage": {"id": "Gunakan: /{cmd} {args}", "en": "Usage: /{cmd} {args}"},
}

USAGE: dict[str, dict[str, str]] = {
    "ack": {"id": "N… (atau balas kartu tiket)", "en": "N… (or reply to a ticket card)"},
    "done": {
        "id": "N… [removed|banned|restricted|gone] [catatan]",
        "en": "N… [removed|banned|restricted|gone] [note]",
    },
    "reject": {"id": "N alasan", "en": "N reason"},
    "note": {"id": "N teks", "en": "N text"},
    "clarify": {"id": "N pertanyaan", "en": "N question"},
    "reopen": {"id": "N [alasan]", "en": "N [reason]"},
    "assign": {"id": "N @username", "en": "N @username"},
    "ticket": {"id": "N", "en": "N"},
    "oncall": {"id": "[@username [durasi, mis. 2h]]", "en": "[@username [duration, e.g. 2h]]"},
    "stats": {"id": "[hari]", "en": "[days]"},
    "report": {"id": "[hari]", "en": "[days]"},
    "export": {"id": "[hari, bawaan 30]", "en": "[days, default 30]"},
}

HELP: dict[str, dict[str, list[str]]] = {
    "reporter": {
        "id": [
            "Teruskan postingan atau tempel tautan t.me di sini: setiap tautan menjadi tiket. Tambahkan #urgent untuk yang mendesak.",
            "/ticket N — kartu dan riwayat tiket",
            "/open — tiket terbuka, tenggat terdekat dulu",
            "/note N teks — tambahkan catatan (juga untuk menjawab klarifikasi)",
            "/reopen N [alasan] — konten muncul lagi",
            "/oncall — siapa yang piket",
        ],
        "en": [
            "Forward a post or paste t.me links here: each link becomes a ticket. Add #urgent for urgent content.",
            "/ticket N — a ticket's card and history",
            "/open — open tickets, nearest deadline first",
            "/note N text — add a note (also answers a clarification)",
            "/reopen N [reason] — the content is back",
            "/oncall — who is on call",
        ],
    },
    "moderator": {
        "id": [
            "/ack N… — terima tiket (atau balas kartunya)",
            "/done N… [removed|banned|restricted|gone] [catatan] — ditindak (alias /removed)",
            "/reject N alasan — tidak dapat ditindak",
            "/clarify N pertanyaan — tanya pelapor; tenggat dijeda",
            "/assign N @username — serahkan ke moderator lain",
            "/oncall @username [durasi] — ganti piket",
        ],
        "en": [
            "/ack N… — acknowledge tickets (or reply to the card)",
            "/done N… [removed|banned|restricted|gone] [note] — actioned (alias /removed)",
            "/reject N reason — not actionable",
            "/clarify N question — ask the reporter; the deadline pauses",
            "/assign N @username — hand to another moderator",
            "/oncall @username [duration] — override the rotation",
        ],
    },
    "supervisor": {
        "id": [
            "/stats [hari] — angka kinerja",
            "/report [hari] — grafik dan CSV",
            "/export [hari] — tiket dan riwayatnya (JSON)",
        ],
        "en": [
            "/stats [days] — performance figures",
            "/report [days] — chart and CSV",
            "/export [days] — tickets and their history (JSON)",
        ],
    },
}


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
    policy: EscalationPolicy = field(default_factory=EscalationPolicy)

    def t(self, key: str, **args: object) -> str:
        """One template in the configured language."""
        entry = T[key]
        template = entry.get(self.lang) or entry["en"]
        return template.format(**args) if args else template

    # ---- small pieces ---------------------------------------------------------------

    def when(self, at: datetime, *, seconds: bool = False) -> str:
        """An instant in the display zone, e.g. '23 Nov 14:30 WIB'."""
        local = at.astimezone(self.zone)
        month = (MONTHS_ID if self.lang == "id" else MONTHS_EN)[local.month - 1]
        clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
        return f"{local.day:02d} {month} {clock} {local.tzname() or ''}".rstrip()

    def span(self, delta: timedelta) -> str:
        """A duration, e.g. '1j 30m' / '1h 30m'."""
        seconds = max(0, int(delta.total_seconds()))
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        units = ("h", "j", "m", "d") if self.lang == "id" else ("d", "h", "m", "s")
        parts = [f"{v}{u}" for v, u in zip((days, hours, minutes, secs), units, strict=True) if v]
        if not parts:
            return "0" + units[3]
        return " ".join(parts[:2])

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
    ) -> Rendered:
        """The full card of one ticket, with buttons while it is open.

        `dups`: tickets the same report named that were already tracked.
        """
        head = f"📌 <b>{self.t('new_ticket')} #{t.id}</b>"
        if t.urgent:
            head += " · " + self.t("urgent")
        lines = [head, escape(t.link) if t.link else self.forward_ref(t)]
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
        if dups:
            lines.append(self.dup_line(dups))
        buttons = None if t.is_closed else self.card_buttons(t.id)
        return Rendered("\n".join(lines), buttons, ticket_ids=(t.id,), track="card")

    def card_buttons(self, ticket_id: int) -> Buttons:
        """[Acknowledge] [Removed] [Reject]."""
        return [
            [
                (self.t("btn_ack"), f"{ACK}{ticket_id}"),
                (self.t("btn_done"), f"{DONE}{ticket_id}"),
                (self.t("btn_reject"), f"{REJECT}{ticket_id}"),
            ]
        ]

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
    ) -> Rendered:
        """Several tickets in one message (several links, or a burst); see card_chunks."""
        lines = [self.ticket_line(t, now) for t in tickets]
        tail = [self._duty_line(duty)] if any(not t.is_closed for t in tickets) else []
        if dups:
            tail.append(self.dup_line(dups))
        head = (
            self.t("new_tickets_one")
            if len(tickets) == 1
            else self.t("new_tickets", n=len(tickets))
        )
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
