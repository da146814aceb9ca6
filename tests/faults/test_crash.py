"""SIGKILL the bot at random (seeded) instants while reports stream in; restart it; check.

At the end, through the SQLite file and the sandbox: every reported link is one ticket
(none lost, none doubled, report counts right), every ticket's card reached the chat (a
card sent again because the kill fell between Telegram's OK and the commit is counted as
a documented duplicate), every escalation step that fell due fired exactly once and none
after its ticket closed, every notification was delivered, nothing was confirmed to
Telegram that is not stored, and the database is sound.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox.server import Sandbox
from tests.e2e.harness import ANDI, CHAT, DEWI, RINA, SUP_CHAT
from tests.faults.procs import (
    TRACEBACK,
    BotProcess,
    bot_process,
    card_tickets,
    integrity,
    new_sandbox,
    query,
)

ACK, RESOLVE, REPEAT = timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=3)
DEADLINES = {
    "LIAISON_ACK_DEADLINE": "2s",
    "LIAISON_RESOLVE_DEADLINE": "4s",
    "LIAISON_ESCALATION_REPEAT": "3s",
}
# A step due this long before its ticket closed must have fired (the timer fires within
# about a second of a due instant; the bot was up for several seconds before the close).
SLACK = timedelta(seconds=3)
CHANNELS = ("FakeNews", "HoaxHarian", "PropagandaID", "KabarPalsu", "BeritaBohong")
STEP = re.compile(r"^step (\d+):")


@dataclass
class Report:
    text: str
    links: tuple[str, ...]  # canonical
    reply_to_card: bool = False


@dataclass
class Figures:
    seed: int
    reports: int = 0
    links: int = 0
    kills: int = 0
    tickets: int = 0
    lost: int = 0
    duplicate_tickets: int = 0
    wrong_counts: int = 0
    cards_missing: int = 0
    duplicate_cards: int = 0  # card messages sent again after a kill (documented window)
    untracked_cards: int = 0  # card messages sent but not recorded before the kill
    steps_fired: int = 0
    steps_lost: int = 0
    steps_doubled: int = 0
    steps_after_close: int = 0
    outbox_rows: int = 0
    outbox_not_sent: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"seed {self.seed}: {self.reports} reports of {self.links} links, {self.kills} kills"
            f" -> {self.tickets} tickets, lost {self.lost}, duplicate tickets "
            f"{self.duplicate_tickets}, wrong report counts {self.wrong_counts}; cards missing "
            f"{self.cards_missing}, duplicate card messages {self.duplicate_cards} (untracked "
            f"{self.untracked_cards}); escalation steps fired {self.steps_fired}, lost "
            f"{self.steps_lost}, doubled {self.steps_doubled}, after close "
            f"{self.steps_after_close}; outbox {self.outbox_rows} rows, not sent "
            f"{self.outbox_not_sent}; {self.seconds:.0f}s"
        )


def plan(rng: random.Random, count: int, distinct: int) -> list[Report]:
    """``count`` reports over about ``distinct`` links: repeats, pairs, replies to cards."""
    made: list[str] = []
    reports: list[Report] = []
    post = 0
    while len(reports) < count:
        links: list[str] = []
        wanted = 2 if rng.random() < 0.1 else 1
        while len(links) < wanted:
            if made and (len(made) >= distinct or rng.random() < 0.15):
                link = rng.choice(made)
            else:
                post += 1
                link = f"https://t.me/{rng.choice(CHANNELS)}/{post}"
                made.append(link)
            if link not in links:
                links.append(link)
        written = [link if rng.random() < 0.5 else link.removeprefix("https://") for link in links]
        text = f"Laporan {len(reports) + 1}: " + " dan ".join(written)
        reports.append(Report(text, tuple(links), reply_to_card=rng.random() < 0.1))
    return reports


def push(sandbox: Sandbox, report: Report, rng: random.Random) -> int:
    reply_to = None
    if report.reply_to_card:
        cards = [m for m in sandbox.messages(CHAT) if m.buttons()]
        if cards:
            reply_to = rng.choice(cards).message_id
    user = rng.choice((RINA, DEWI))
    sent = sandbox.send_text(CHAT, user, report.text, reply_to=reply_to)
    return int(sent["message_id"])


def last_update_stored(bot: BotProcess) -> int:
    rows = query(bot.database, "SELECT value FROM meta WHERE key = 'last_update_id'")
    return int(rows[0][0]) if rows else 0


def steps_due_by(created: datetime, limit: datetime) -> Iterator[int]:
    """Numbers of the escalation steps of a ticket created then that fall due by ``limit``."""
    number = 1
    while step_due(created, number) <= limit:
        yield number
        number += 1


def step_due(created: datetime, number: int) -> datetime:
    if number == 1:
        return created + ACK
    return created + RESOLVE + REPEAT * (number - 2)


async def run_trial(
    tmp_path: Path, seed: int, *, count: int, distinct: int, kills: int, spread: float
) -> Figures:
    """One trial: stream ``count`` reports over ``spread`` seconds with ``kills`` SIGKILLs."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not security
    reports = plan(rng, count, distinct)
    fig = Figures(seed, reports=len(reports))
    sandbox = new_sandbox()
    await sandbox.start()
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        async with bot_process(sandbox, tmp_path / "bot", env=DEADLINES, fast_sender=True) as bot:
            await bot.start()
            kill_at = sorted(rng.uniform(0.3, spread) for _ in range(kills))
            gaps = [rng.expovariate(len(reports) / spread) for _ in reports]

            async def stream() -> None:
                for report, gap in zip(reports, gaps, strict=True):
                    await asyncio.sleep(gap)  # the workload's shape, not a settling wait
                    push(sandbox, report, rng)

            async def killer() -> None:
                start = loop.time()
                for at in kill_at:
                    await asyncio.sleep(max(0.0, start + at - loop.time()))  # deliberate
                    await bot.kill()
                    fig.kills += 1
                    await bot.start()

            await asyncio.gather(stream(), killer())
            pushed = len(reports)  # update ids 1..pushed: nothing else was sent yet
            # every update handled and confirmed; then close every ticket so escalation ends
            await bot.wait_for(
                lambda: sandbox.pending_updates() == 0 and last_update_stored(bot) >= pushed,
                60 + count / 20,
                "every report handled and confirmed",
            )
            await close_everything(bot, sandbox)
            await bot.wait_for(
                lambda: (
                    not query(bot.database, "SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1")
                ),
                60 + count / 10,
                "every notification delivered",
            )
            assert await bot.stop() == 0, bot.log()
        assert sandbox.pending_updates() == 0
        check(bot, sandbox, reports, fig)
        assert TRACEBACK not in bot.log(), bot.log()
        assert not bot.log_matches(r" (ERROR|CRITICAL) "), bot.log()
    finally:
        await sandbox.stop()
    fig.seconds = loop.time() - began
    print(fig.line())
    return fig


async def close_everything(bot: BotProcess, sandbox: Sandbox) -> None:
    """The on-call moderator closes every open ticket with /done, 50 at a time."""
    ids = [r[0] for r in query(bot.database, "SELECT id FROM tickets WHERE closed_at IS NULL")]
    for start in range(0, len(ids), 50):
        chunk = ids[start : start + 50]
        sandbox.send_text(CHAT, ANDI, "/done " + " ".join(str(i) for i in chunk))
    await bot.wait_for(
        lambda: not query(bot.database, "SELECT 1 FROM tickets WHERE closed_at IS NULL LIMIT 1"),
        60,
        "every ticket closed",
    )


def check(bot: BotProcess, sandbox: Sandbox, reports: list[Report], fig: Figures) -> None:
    db = bot.database
    assert integrity(db) == "ok"
    expected = Counter(link for r in reports for link in r.links)
    fig.links = len(expected)
    tickets = query(db, "SELECT id, link, report_count, created_at, closed_at FROM tickets")
    fig.tickets = len(tickets)
    by_link: dict[str, list[int]] = defaultdict(list)
    for t in tickets:
        by_link[t["link"]].append(t["id"])
    fig.lost = sum(1 for link in expected if link not in by_link)
    fig.duplicate_tickets = sum(len(v) - 1 for v in by_link.values() if len(v) > 1)
    unexpected = [link for link in by_link if link not in expected]
    reports_rows = Counter(r[0] for r in query(db, "SELECT ticket_id FROM reports"))
    for t in tickets:
        want = expected.get(t["link"], 0)
        if t["report_count"] != want or reports_rows[t["id"]] != want:
            fig.wrong_counts += 1
            fig.notes.append(
                f"#{t['id']} {t['link']}: count {t['report_count']}, "
                f"{reports_rows[t['id']]} report rows, {want} reports sent"
            )

    # cards: in the chat at least once; more than once only if re-sent after a kill
    shown: Counter[int] = Counter()
    seen_before: set[int] = set()
    tracked = {
        r[0] for r in query(db, "SELECT message_id FROM bot_messages WHERE chat_id = ?", (CHAT,))
    }
    for message in sandbox.messages(CHAT):
        ids = card_tickets(message.text)
        if not ids:
            continue
        shown.update(ids)
        if set(ids) <= seen_before:
            fig.duplicate_cards += 1
        seen_before.update(ids)
        if message.message_id not in tracked:
            fig.untracked_cards += 1
    fig.cards_missing = sum(1 for t in tickets if shown[t["id"]] == 0)

    # escalation: steps 1..k each exactly once, all that fell due before the close
    events: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for e in query(db, "SELECT ticket_id, at, detail FROM events WHERE kind = 'escalated'"):
        m = STEP.match(e["detail"])
        assert m, f"unexpected escalation event {e['detail']!r}"
        events[e["ticket_id"]].append((int(m.group(1)), datetime.fromisoformat(e["at"])))
    for t in tickets:
        created = datetime.fromisoformat(t["created_at"])
        closed = datetime.fromisoformat(t["closed_at"])
        fired = events.get(t["id"], [])
        numbers = Counter(n for n, _ in fired)
        fig.steps_fired += len(fired)
        fig.steps_doubled += sum(c - 1 for c in numbers.values())
        for number, at in fired:
            if at > closed or step_due(created, number) > closed:
                fig.steps_after_close += 1
            assert at >= step_due(created, number), f"#{t['id']} step {number} fired early"
        # steps fire in order: one missing below a fired step is lost however late it was
        due = set(steps_due_by(created, closed - SLACK))
        lost = sorted((due | set(range(1, max(numbers, default=0)))) - set(numbers))
        if lost:
            fig.steps_lost += len(lost)
            fig.notes.append(f"#{t['id']}: steps {lost} never fired")

    states = Counter(r[0] for r in query(db, "SELECT state FROM outbox"))
    fig.outbox_rows = sum(states.values())
    fig.outbox_not_sent = fig.outbox_rows - states["sent"]
    assert sandbox.messages(SUP_CHAT), "no escalation reached the supervisors"

    problems = [
        ("lost tickets", fig.lost),
        ("duplicate tickets", fig.duplicate_tickets),
        ("wrong report counts", fig.wrong_counts),
        ("tickets without a card", fig.cards_missing),
        ("lost escalation steps", fig.steps_lost),
        ("doubled escalation steps", fig.steps_doubled),
        ("steps after close", fig.steps_after_close),
        ("undelivered notifications", fig.outbox_not_sent),
        ("tickets for links never reported", len(unexpected)),
    ]
    failed = [f"{what}: {n}" for what, n in problems if n]
    assert not failed, f"{fig.line()}\n{failed}\n" + "\n".join(fig.notes[:40])
    # a card is re-sent only when a kill fell between Telegram's OK and the commit
    assert fig.duplicate_cards <= fig.kills, fig.line()


@pytest.mark.timeout(150)
async def test_killed_and_restarted_while_reports_stream_in(tmp_path: Path) -> None:
    fig = await run_trial(tmp_path, 2026, count=100, distinct=85, kills=2, spread=6.0)
    assert fig.kills == 2


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", range(1, 21))
async def test_killed_during_a_burst_of_1000_reports(tmp_path: Path, seed: int) -> None:
    fig = await run_trial(tmp_path, seed, count=1000, distinct=300, kills=4, spread=10.0)
    assert fig.kills == 4
