"""`liaison-bot demo`: the whole flow on loopback, no Telegram account, as a transcript.

An embedded sandbox Bot API, the real bot (PTB over real HTTP), a temporary database and
compressed deadlines (seconds instead of minutes and hours). A scripted liaison chat plays
out: reports, a duplicate written differently, a forward, an acknowledgement, a removal, a
rejection, a clarification, and a ticket nobody acts on that escalates to the backup and then
to a supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import Runtime, build_application, serve
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import LiaisonApp
from bot.domain.roster import Roster
from bot.roster_file import parse_roster
from bot.sandbox.server import Sandbox, SentMessage, parse_html
from bot.sender import Limits

CHAT = -1001700000001
SUP_CHAT = -1001700000002
ANDI, BUDI, SARI = 1001, 1002, 2001
RINA, DEWI = 3001, 3002
NAMES = {
    ANDI: "Andi (moderator, on call)",
    BUDI: "Budi (moderator, backup)",
    SARI: "Sari (supervisor)",
    RINA: "Rina (ministry)",
    DEWI: "Dewi (ministry)",
}
CHATS = {CHAT: "liaison chat", SUP_CHAT: "supervisor chat"}

ROSTER = """
[[person]]
name = "Andi Wijaya"
telegram_id = 1001
username = "andi_mod"
phone = "+62 811 0000 0001"
roles = ["moderator"]

[[person]]
name = "Budi Santoso"
telegram_id = 1002
username = "budi_mod"
phone = "+62 811 0000 0002"
roles = ["moderator"]

[[person]]
name = "Sari Dewi"
telegram_id = 2001
username = "sari_lead"
phone = "+62 811 0000 0009"
roles = ["supervisor"]

[rotation]
start = {start}
shift = "8h"
order = ["andi_mod", "budi_mod"]
"""


ANCHOR = re.compile(r"--anchor (\d+):([0-9a-f]{64})")  # as the chain head message says it


def demo_roster(clock: Clock) -> Roster:
    """Andi's shift began an hour ago, whatever the time of day: the transcript's "on call"
    and "backup" labels are then what the cards say."""
    start = (clock.now() - timedelta(hours=1)).replace(microsecond=0)
    return parse_roster(ROSTER.replace("{start}", start.isoformat()))


class Transcript:
    """Prints what people say and, as they happen, the bot's calls to the Bot API."""

    def __init__(self, sandbox: Sandbox, loop: asyncio.AbstractEventLoop) -> None:
        self.sandbox = sandbox
        self.seen = 0
        self.t0 = loop.time()
        self.loop = loop

    def stamp(self) -> str:
        return f"[{self.loop.time() - self.t0:5.1f}s]"

    def person(self, user: int, chat: int, text: str, note: str = "") -> None:
        self.flush()
        where = CHATS.get(chat, "private chat")
        print(f"{self.stamp()} 👤 {NAMES[user]} in {where}{note}:")
        print(textwrap.indent(text, "      "))

    def flush(self) -> None:
        calls = self.sandbox.calls
        while self.seen < len(calls):
            method, params = calls[self.seen]
            self.seen += 1
            self._print_call(method, params)

    def _print_call(self, method: str, params: dict[str, Any]) -> None:
        chat = params.get("chat_id")
        where = CHATS.get(int(chat), f"DM to {NAMES.get(int(chat), chat)}") if chat else ""
        if method == "sendMessage":
            text = _plain(str(params.get("text", "")))
            reply = params.get("reply_parameters") or {}
            note = " (reply)" if reply else ""
            print(f"{self.stamp()} 🤖 bot → {where}{note}:")
            print(textwrap.indent(text, "      "))
            buttons = [
                b["text"]
                for row in (params.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
            ]
            if buttons:
                print("      " + "  ".join(f"[{b}]" for b in buttons))
        elif method == "editMessageText":
            text = _plain(str(params.get("text", "")))
            print(f"{self.stamp()} ✏️  bot edits its card in the {where}:")
            print(textwrap.indent(text, "      "))
        elif method == "answerCallbackQuery" and params.get("text"):
            print(f"{self.stamp()} 💬 button answer: {params['text']}")
        elif method == "leaveChat":
            print(f"{self.stamp()} 🚪 bot leaves chat {chat}")


def _plain(html: str) -> str:
    try:
        return parse_html(html)[0]
    except Exception:  # the transcript never fails on a message the sandbox accepted
        return html


class Demo:
    """The scripted chat."""

    def __init__(self, sandbox: Sandbox, app: LiaisonApp, out: Transcript) -> None:
        self.sandbox = sandbox
        self.app = app
        self.out = out

    async def idle(self, within: float = 10.0) -> None:
        """Wait until the bot has consumed every update and delivered what it queued."""
        await self.sandbox.wait_for(lambda: self.sandbox.pending_updates() == 0, timeout=within)
        sender = self.app.bot_data.sender_
        if sender is not None:
            await sender.drain(within)
        self.out.flush()

    async def until(self, predicate: Callable[[], object], within: float) -> None:
        await self.sandbox.wait_for(predicate, timeout=within)
        await self.idle()

    def say(self, user: int, text: str, chat: int = CHAT, **kw: Any) -> dict[str, Any]:
        self.out.person(user, chat, text, " (replying)" if kw.get("reply_to") else "")
        return self.sandbox.send_text(chat, user, text, **kw)

    def card_of(self, message_id: int) -> SentMessage:
        return next(m for m in self.sandbox.messages(CHAT) if m.reply_to == message_id)

    async def play(self) -> None:
        s = self.sandbox
        section("0. The on-call moderator starts the bot privately, to get direct messages")
        self.out.person(ANDI, ANDI, "/start")
        s.start_private(ANDI)
        await self.idle()

        section("1. Ministry staff report links; each becomes one ticket")
        first = self.say(
            RINA, "Propaganda video #terorisme, please take down: https://t.me/HoaxDaily/1042"
        )
        await self.idle()
        self.say(DEWI, "Same post again: telegram.me/hoaxdaily/1042?single")
        await self.idle()
        channel = s.add_chat(-1001999000111, "Berita Palsu", "channel", username="beritapalsu_id")
        self.out.person(RINA, CHAT, "(forwards a post from the channel @beritapalsu_id)")
        s.forward(CHAT, RINA, Sandbox.origin_channel(channel, 77), "Bom rakitan tutorial …")
        await self.idle()
        both = self.say(RINA, "Two more, #urgent: https://t.me/KabarHoax/9 and t.me/+AbCdEf123")
        await self.idle()
        self.say(DEWI, "Rapat jam 3 ya")  # chatter: no reply
        await self.idle()
        self.say(DEWI, "Also see https://example.com/article")
        await self.idle()

        section("2. Moderators act: acknowledge, remove, reject, ask for clarification")
        card = self.card_of(first["message_id"])
        self.out.person(ANDI, CHAT, "(presses [Acknowledge] on the card of #1)")
        s.press_button(CHAT, ANDI, card.message_id, "ack:1")
        await self.idle()
        self.say(ANDI, "/done 1 banned channel removed for terrorism propaganda")
        await self.idle()
        self.say(BUDI, "/reject 4 invite link to a news outlet, not propaganda")
        await self.idle()
        self.say(ANDI, "/clarify 2 Which part of the video? It is 40 minutes long.")
        await self.idle()
        question = next(m for m in s.messages(CHAT) if "asks about" in m.text)
        self.say(RINA, "From 12:30 to 14:00, the bomb-making part.", reply_to=question.message_id)
        await self.idle()
        self.say(ANDI, "/done 2 restricted")
        await self.idle()

        section("3. Nobody acts on #3: backup pinged, then supervisors, then again")
        print("      (deadlines compressed: acknowledge 8 s, urgent close 14 s, repeat 5 s)")
        self.say(RINA, "/open")
        await self.idle()
        await self.until(lambda: any("Not acknowledged" in m.text for m in s.messages(CHAT)), 15)
        await self.until(lambda: any("ESCALATION" in m.text for m in s.messages(SUP_CHAT)), 15)
        await self.until(
            lambda: sum("ESCALATION" in m.text for m in s.messages(SUP_CHAT)) >= 2, 15
        )
        self.say(BUDI, "/ack 3")
        await self.idle()
        self.say(BUDI, "/done 3 removed")
        await self.idle()
        self.say(SARI, "/ticket 3")
        await self.idle()
        del both

        section("4. An order: the ministry's findings as a CSV file, one update for all")
        rows = ["no;link;note"]
        rows += [f"{n};https://t.me/SlotGacor{n}/{100 + n};judi online" for n in range(1, 13)]
        rows += ["13;(link removed by the sender);", "14;https://t.me/HoaxDaily/1042;again"]
        caption = "Surat B-123/2026 #judol"
        narration = f"(posts temuan.csv: a header, 13 links, a line without one) {caption}"
        self.out.person(RINA, CHAT, narration)
        s.post_document(CHAT, RINA, "temuan.csv", "\n".join(rows).encode(), caption=caption)
        await self.idle(20.0)
        self.say(RINA, "/order 1")
        await self.idle()
        self.say(SARI, "/stats")
        await self.idle()

        section("5. The chain head in the chat: Telegram's date on it timestamps the history")
        self.say(SARI, "/anchor", chat=SUP_CHAT)
        await self.idle()


async def _keep_flushing(out: Transcript) -> None:
    """Print the bot's calls as they happen, so timestamps are true."""
    while True:
        out.flush()
        await asyncio.sleep(0.05)


def section(title: str) -> None:
    print()
    print(f"──── {title} " + "─" * max(0, 70 - len(title)))


def _anchor_in(sandbox: Sandbox) -> tuple[int, str] | None:
    """The last chain head the bot posted in the supervisor chat (`--anchor N:HASH`)."""
    found = None
    for message in sandbox.messages(SUP_CHAT):
        match = ANCHOR.search(_plain(message.text))
        if match:
            found = (int(match[1]), match[2])
    return found


def rechain(records: list[dict[str, Any]]) -> None:
    """What a forger who knows the encoding does after an edit: every hash recomputed."""
    from bot.domain.proof import ZERO, event_hash

    owner = {id(e): r.get("id") for r in records for e in r["events"]}
    prev = ZERO
    for e in sorted((e for r in records for e in r["events"]), key=lambda e: e["seq"]):
        fields = {k: e[k] for k in ("seq", "at", "actor_id", "kind", "detail", "data")}
        e["prev"] = prev
        e["hash"] = prev = event_hash(ticket=owner[id(e)], prev=prev, **fields)


def show_proof(
    records: list[dict[str, Any]], folder: Path, anchor: tuple[int, str] | None
) -> None:
    """Verify the export file as the other side would (offline, the file alone, with the
    anchor from the chat), then after an edit, then after an edit hidden by re-hashing."""
    from bot.verifier import verify_file

    def check(name: str, content: list[dict[str, Any]]) -> None:
        path = folder / name
        with path.open("w", encoding="utf-8") as f:  # as `liaison-bot export` writes it
            f.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in content))
            f.write("\n]\n")
        verdict = verify_file(path, anchors=[anchor] if anchor else [])
        for line in verdict.summary().splitlines():
            print("  " + line)
        print(f"  (exit {0 if verdict.ok else 1})")

    flag = f" --anchor {anchor[0]}:{anchor[1][:12]}…" if anchor else ""
    section(f"Proof: liaison-bot verify export.json{flag} (offline: the file alone)")
    check("export.json", records)
    edited = json.loads(json.dumps(records))
    closing = next(e for e in edited[0]["events"] if e["kind"] == "removed")
    before = closing["detail"]
    closing["detail"] = "removed: nothing to see"
    print(f"\n  Someone edits #1's closing event in the file: {before!r} -> {closing['detail']!r}")
    check("edited.json", edited)
    if anchor:
        rechain(edited)
        print("\n  … and recomputes every hash after it, so the file agrees with itself:")
        check("rehashed.json", edited)


async def run_demo(language: str = "en") -> int:
    """Run the scripted demo and print the transcript; 0 when it played through."""
    with tempfile.TemporaryDirectory(prefix="liaison-demo-") as tmp:
        sandbox = Sandbox(group_limit=20)
        sandbox.add_chat(CHAT, "Kominfo – Telegram liaison", "supergroup")
        sandbox.add_chat(SUP_CHAT, "Liaison supervisors", "supergroup")
        for uid, name, username in (
            (ANDI, "Andi", "andi_mod"),
            (BUDI, "Budi", "budi_mod"),
            (SARI, "Sari", "sari_lead"),
            (RINA, "Rina", None),
            (DEWI, "Dewi", None),
        ):
            sandbox.add_user(uid, name, username)
        await sandbox.start()
        settings = Settings(
            bot_token=SecretStr(sandbox.token),
            api_base_url=sandbox.base_url,
            chat_id=CHAT,
            supervisor_chat_id=SUP_CHAT,
            database=Path(tmp) / "demo.db",
            ack_deadline=timedelta(seconds=8),
            resolve_deadline=timedelta(seconds=30),
            urgent_deadline=timedelta(seconds=14),
            escalation_repeat=timedelta(seconds=5),
            language=language,
            digest_at=None,
            http_listen="",  # no health endpoint for a demo
            _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        )
        clock = SystemClock()
        runtime = Runtime(settings, demo_roster(clock), clock, Limits(min_gap=0.3), poll_timeout=2)
        app = build_application(runtime)
        loop = asyncio.get_running_loop()
        out = Transcript(sandbox, loop)
        print("Liaison bot demo: a local sandbox Bot API on 127.0.0.1, no Telegram account.")
        task = asyncio.create_task(serve(app, poll_timeout=2))
        printer = asyncio.create_task(_keep_flushing(out))
        try:
            await sandbox.wait_for(lambda: sandbox.call_count("getUpdates") > 0, timeout=10)
            out.flush()
            await Demo(sandbox, app, out).play()
            section("Export (liaison-bot export --format json), one line per ticket")
            from bot.export import load_records

            records = await load_records(app.bot_data.services.db, settings.policy)
            for r in records:
                kinds = ",".join(e["kind"] for e in r["events"])
                if "id" not in r:
                    print(f"  (events of no ticket) events={kinds}")
                    continue
                print(
                    f"  #{r['id']} {r['status']:<12} {r['outcome'] or '-':<10} "
                    f"reports={r['report_count']} urgent={r['urgent']} events={kinds}"
                )
            show_proof(records, Path(tmp), _anchor_in(sandbox))
        finally:
            for running in (printer, task):
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
            await sandbox.stop()
    print("\nDemo finished.")
    return 0
