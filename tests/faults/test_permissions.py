"""Every command and button × role × chat kind: no unauthorised change, one answer per refusal.

Roles: a stranger (in no roster, writing from outside the liaison chat where that matters),
a reporter (ministry staff), a moderator, a supervisor. Chats: the liaison group, the
supervisor group, a private chat, a foreign group. All unauthorised attempts go in first,
in one batch; the export must be identical afterwards, and each attempt gets exactly one
answer: a refusal reply, a "not served" line in private, a callback answer, or (in a
foreign group) the bot's one-line reason before it leaves.

Then text that looks like SQL or HTML, in notes, reasons, questions and outcomes: stored
verbatim, shown inertly (escaped in the HTML the bot sends).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.server import SentMessage
from bot.sender import Limits
from tests.e2e.harness import ANDI, BUDI, CHAT, DEWI, EVE, RINA, SARI, SUP_CHAT, World, running_bot
from tests.faults.procs import settled

FAST = Limits(group_messages=10_000, group_window=1.0, min_gap=0.0, max_backoff=2.0)
ROLES = {"stranger": EVE, "reporter": RINA, "moderator": ANDI, "supervisor": SARI}
CHATS = ("liaison", "supervisors", "private", "foreign")
# ticket 1: open, reported by Rina; ticket 2: closed, reported by Dewi
COMMANDS = {
    "ack": "/ack 1",
    "done": "/done 1",
    "removed": "/removed 1",
    "reject": "/reject 1 not Telegram content",
    "note": "/note 1 checked",
    "clarify": "/clarify 1 which post?",
    "reopen": "/reopen 2 it is back",
    "assign": "/assign 1 @budi_mod",
    "ticket": "/ticket 1",
    "open": "/open",
    "oncall": "/oncall",
    "oncall_set": "/oncall @budi_mod 2h",
    "help": "/help",
    "stats": "/stats",
    "report": "/report",
    "export": "/export",
}
BUTTONS = ("ack:1", "done:1", "rej:1", "ackall")
MODERATOR_ONLY = {
    "ack",
    "done",
    "removed",
    "reject",
    "clarify",
    "assign",
    "oncall_set",
    "ack:1",
    "done:1",
    "ackall",
}
SUPERVISOR_ONLY = {"stats", "report", "export"}
READ_ONLY = {"ticket", "open", "oncall", "help", "rej:1"}
REFUSED = "⛔"
NOT_SERVED = "This bot serves only the people listed"
LEAVING = "This bot serves only the ministry–Telegram liaison chat"


@dataclass
class Cell:
    action: str  # a COMMANDS key or a button's data
    role: str
    chat: str

    @property
    def user(self) -> int:
        return ROLES[self.role]

    @property
    def is_button(self) -> bool:
        return self.action in BUTTONS

    @property
    def authorised(self) -> bool:
        """May this change state (or is it at least served)?"""
        if self.chat == "foreign":
            return False
        if self.chat == "private" and self.role in ("stranger", "reporter"):
            return False
        if self.action in SUPERVISOR_ONLY:
            return self.role == "supervisor"
        if self.action in MODERATOR_ONLY:
            return self.role in ("moderator", "supervisor")
        if self.action == "reopen":  # ticket 2 is Dewi's
            return self.role in ("moderator", "supervisor")
        return True  # note (reporters may), and the read-only ones


def all_cells() -> list[Cell]:
    actions = [*COMMANDS, *BUTTONS]
    return [Cell(a, r, c) for a, r, c in itertools.product(actions, ROLES, CHATS)]


@dataclass
class Sent:
    cell: Cell
    chat_id: int
    message_id: int | None = None
    query_id: str | None = None


class Matrix:
    def __init__(self, w: World) -> None:
        self.w = w
        self.foreign = itertools.count(-1_007_000_000_001, -1)
        self.sent: list[Sent] = []

    def chat_of(self, cell: Cell) -> int:
        if cell.chat == "liaison":
            return CHAT
        if cell.chat == "supervisors":
            return SUP_CHAT
        if cell.chat == "private":
            return cell.user
        group = next(self.foreign)
        self.w.sandbox.add_chat(group, "Somebody else's group", "supergroup")
        return group

    def bot_message(self, chat_id: int) -> int:
        live = [m for m in self.w.sandbox.messages(chat_id) if not m.deleted]
        return live[-1].message_id

    def send(self, cell: Cell, card: int) -> None:
        sandbox = self.w.sandbox
        chat_id = self.chat_of(cell)
        if not cell.is_button:
            msg = sandbox.send_text(chat_id, cell.user, COMMANDS[cell.action])
            self.sent.append(Sent(cell, chat_id, message_id=msg["message_id"]))
        elif cell.chat == "foreign":  # a card seen in another group (say, forwarded there)
            query_id = f"foreign{len(self.sent)}"
            sandbox.push_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": sandbox.user(cell.user),
                        "message": {
                            "message_id": 1,
                            "date": 0,
                            "chat": sandbox.chat(chat_id),
                            "from": sandbox.bot_user,
                            "text": "📌 Ticket #1",
                        },
                        "chat_instance": "1",
                        "data": cell.action,
                    }
                }
            )
            self.sent.append(Sent(cell, chat_id, query_id=query_id))
        else:
            target = card if chat_id == CHAT else self.bot_message(chat_id)
            query = sandbox.press_button(chat_id, cell.user, target, cell.action, check=False)
            self.sent.append(Sent(cell, chat_id, query_id=str(query["id"])))

    def answers(self, s: Sent) -> list[Any]:
        """What the bot said back to one attempt."""
        sandbox = self.w.sandbox
        if s.query_id is not None and s.cell.chat != "foreign":
            return [
                p
                for name, p in sandbox.calls
                if name == "answerCallbackQuery" and str(p.get("callback_query_id")) == s.query_id
            ]
        if s.cell.chat == "foreign":
            return [m for m in sandbox.messages(s.chat_id) if LEAVING in m.text]
        if s.cell.chat == "private" and not s.cell.authorised:
            return []  # counted per chat: "not served" lines carry no reply reference
        return [m for m in sandbox.messages(s.chat_id) if m.reply_to == s.message_id]


async def setup(w: World) -> int:
    """Tickets 1 (open, Rina's) and 2 (closed, Dewi's); private chats opened; card of #1."""
    sandbox = w.sandbox
    for user in ROLES.values():
        sandbox.start_private(user)
    first = w.say(RINA, "Propaganda https://t.me/FakeNews/1")
    card = await w.reply_to(first["message_id"])
    w.say(DEWI, "https://t.me/FakeNews/2")
    w.say(ANDI, "/done 2")
    w.say(SARI, "/help", chat=SUP_CHAT)  # a bot message in the supervisor chat
    await settled(w)
    [t1, t2] = await w.export()
    assert t1["status"] == "open" and t2["status"] == "removed"
    return card.message_id


def not_served_lines(w: World, user: int) -> int:
    return sum(1 for m in w.sandbox.messages(user) if NOT_SERVED in m.text)


@pytest.mark.timeout(120)
async def test_roles_and_chats(tmp_path: Path) -> None:
    async with running_bot(tmp_path, limits=FAST) as w:
        card = await setup(w)
        before = await w.export()
        served_before = {u: not_served_lines(w, u) for u in (EVE, RINA)}
        matrix = Matrix(w)
        cells = all_cells()
        refused = [c for c in cells if not c.authorised]
        read_only = [c for c in cells if c.authorised and c.action in READ_ONLY]
        for cell in refused + read_only:
            matrix.send(cell, card)
        await settled(w)
        assert await w.export() == before, "an unauthorised attempt changed something"

        problems: list[str] = []
        for s in matrix.sent:
            answers = matrix.answers(s)
            private_refusal = s.cell.chat == "private" and not s.cell.authorised
            if not private_refusal and len(answers) != 1:
                problems.append(f"{s.cell}: {len(answers)} answers")
            if s.cell.authorised or s.cell.chat in ("private", "foreign"):
                continue
            if s.cell.action == "ackall" and s.chat_id != CHAT:
                continue  # pressed on a message that shows no tickets: nothing to refuse
            text = _text(answers[0]) if answers else ""
            if REFUSED not in text and "is not your report" not in text:
                problems.append(f"{s.cell}: not a refusal: {text!r}")
        for user in (EVE, RINA):  # one "not served" line per attempt in private
            attempts = sum(
                1 for s in matrix.sent if s.cell.chat == "private" and s.cell.user == user
            )
            commands = sum(
                1
                for s in matrix.sent
                if s.cell.chat == "private" and s.cell.user == user and not s.cell.is_button
            )
            buttons = attempts - commands
            got = not_served_lines(w, user) - served_before[user]
            if got != commands:
                problems.append(f"private chat of {user}: {got} 'not served' for {commands}")
            answered = [
                s
                for s in matrix.sent
                if s.cell.chat == "private" and s.cell.user == user and s.cell.is_button
            ]
            for s in answered:
                [call] = matrix.answers(s) or [{}]
                if NOT_SERVED not in str(call.get("text")):
                    problems.append(f"{s.cell}: button answer {call}")
            assert len(answered) == buttons
        left = [s.chat_id for s in matrix.sent if s.cell.chat == "foreign"]
        leaves = [p.get("chat_id") for name, p in w.sandbox.calls if name == "leaveChat"]
        if sorted(leaves) != sorted(left):
            problems.append(f"left {len(leaves)} foreign groups of {len(left)}")
        assert not problems, "\n".join(problems)

        # the authorised rest: each answered at most once (an action the card shows is
        # not echoed), and nothing crashes
        allowed = [c for c in cells if c.authorised and c.action not in READ_ONLY]
        matrix.sent.clear()
        for cell in allowed:
            matrix.send(cell, card)
        await settled(w)
        for s in matrix.sent:
            answers = matrix.answers(s)
            assert len(answers) <= 1, f"{s.cell}: {len(answers)} answers"
        [t1, t2] = await w.export()
        assert t1["status"] in ("removed", "rejected") and t2["status"] == "open"
        assert not w.task.done()


def _text(answer: SentMessage | dict[str, Any]) -> str:
    return answer.text if isinstance(answer, SentMessage) else str(answer.get("text"))


SQL = "'); DROP TABLE tickets;--"
HTML = "<b>x</b><script>alert(1)</script> & co"


@pytest.mark.timeout(60)
async def test_sql_and_html_are_stored_verbatim_and_shown_inertly(tmp_path: Path) -> None:
    async with running_bot(tmp_path, limits=FAST) as w:
        for n in range(1, 5):
            m = w.say(RINA, f"https://t.me/FakeNews/{n}")
            await w.reply_to(m["message_id"])
        w.say(ANDI, f"/note 1 {SQL}")
        w.say(RINA, f"/note 1 {HTML}")
        w.say(ANDI, f"/reject 2 {HTML}")
        w.say(ANDI, f"/done 3 removed {SQL} {HTML}")
        w.say(BUDI, f"/clarify 4 {HTML}?")
        await settled(w)
        detail = w.say(DEWI, "/ticket 1")
        shown = await w.reply_to(detail["message_id"])
        await settled(w)
        records = {r["id"]: r for r in await w.export()}
        details = [e["detail"] for e in records[1]["events"]]
        assert SQL in details and HTML in details
        assert records[2]["events"][-1]["detail"].endswith(HTML)
        assert records[3]["events"][-1]["detail"].endswith(f"{SQL} {HTML}")
        assert f"{HTML}?" in [e["detail"] for e in records[4]["events"]]
        assert len(records) == 4  # the table is still there, and whole

        for message in [shown, *w.sent()]:
            if message.html is None or not ({"<script", "DROP TABLE"} & _raw(message)):
                continue
            assert "<script>" not in message.html, message.html
            assert "<b>x</b>" not in message.html, message.html
        assert SQL in shown.text and HTML in shown.text, shown.text
        assert "&lt;script&gt;" in (shown.html or "")
        bold = [e for e in shown.entities if e["type"] == "bold"]
        assert all(_utf16(shown.text, e) != "x" for e in bold)
        notices = [m for m in w.sent() if HTML in m.text]
        assert len(notices) >= 3, [m.text for m in w.sent()]  # reject, done, clarify, detail


def _raw(message: SentMessage) -> set[str]:
    return {needle for needle in ("<script", "DROP TABLE") if needle in message.text}


def _utf16(text: str, entity: dict[str, Any]) -> str:
    raw = text.encode("utf-16-le")
    start = entity["offset"] * 2
    return raw[start : start + entity["length"] * 2].decode("utf-16-le")


async def test_a_stranger_in_the_supervisor_chat_cannot_add_notes(tmp_path: Path) -> None:
    async with running_bot(tmp_path, limits=FAST) as w:
        m = w.say(RINA, "https://t.me/FakeNews/1")
        await w.reply_to(m["message_id"])
        before = await w.export()
        note = w.say(EVE, "/note 1 I am not on the liaison chat", chat=SUP_CHAT)
        answer = await w.reply_to(note["message_id"], chat=SUP_CHAT)
        assert await w.export() == before
        assert REFUSED in answer.text
