"""Retries that do not stall, timed through the sandbox (real time, second scale).

A 429 waits exactly its retry_after and does not grow the backoff; 5xx answers back off
from about 1 s, doubling, with +-20 % jitter, counted only over the row's own transient
failures. A refused goodbye or direct message (403) is not an ERROR in the log.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

from bot.sandbox.server import Answered, Sandbox
from bot.sender import Limits
from tests.e2e.harness import ANDI, CHAT, EVE, RINA, World, running_bot

FOREIGN = -1009000000077
JITTER = 0.2  # Limits().jitter
EARLY = 0.02  # the sender's due times are wall clock, these gaps loop time
LATE = 0.6  # the sender's own work (the run loop, the database) on a shared machine


def tries(sandbox: Sandbox, chat: int) -> list[Answered]:
    """Every sendMessage to a chat, as the sandbox answered it."""
    return [
        a
        for a in sandbox.answered
        if a.method == "sendMessage" and int(a.params.get("chat_id", 0)) == chat
    ]


def gaps(answered: list[Answered]) -> list[float]:
    return [b.at - a.at for a, b in itertools.pairwise(answered)]


def assert_about(gap: float, low: float, high: float, what: str) -> None:
    assert low - EARLY <= gap <= high + LATE, f"{what}: {gap:.3f}s not in [{low}, {high}]"


async def card_after(w: World, statuses: list[tuple[int, int]]) -> list[Answered]:
    """Script the next sendMessage answers, report a link, wait for its card."""
    for status, count in statuses:
        w.sandbox.fail_next("sendMessage", status, count=count, retry_after=1)
    msg = w.say(RINA, "https://t.me/FakeNews/1")
    card = await w.reply_to(msg["message_id"], within=20)
    assert "#1" in card.text
    return tries(w.sandbox, CHAT)


@pytest.mark.timeout(60)
async def test_a_card_after_429s_then_500s_is_not_held_back(tmp_path: Path) -> None:
    async with running_bot(tmp_path, limits=Limits()) as w:
        sent = await card_after(w, [(429, 3), (500, 2)])
    assert [a.status for a in sent] == [429, 429, 429, 500, 500, 200]
    g = gaps(sent)
    print("gaps between tries of the card: " + ", ".join(f"{x:.3f}s" for x in g))
    for i in range(3):  # after each 429: its retry_after, exactly
        assert_about(g[i], 1.0, 1.0, f"wait after 429 #{i + 1}")
    # the 429s did not count: the first 500 waits ~1 s, the second ~2 s
    assert_about(g[3], 1.0 - JITTER, 1.0 + JITTER, "wait after the first 500")
    assert_about(g[4], 2.0 - JITTER * 2, 2.0 + JITTER * 2, "wait after the second 500")
    assert g[4] < 5.0, f"the card came {g[4]:.3f}s after the last failure"


@pytest.mark.timeout(60)
async def test_a_429_between_500s_neither_grows_nor_resets_the_backoff(tmp_path: Path) -> None:
    async with running_bot(tmp_path, limits=Limits()) as w:
        sent = await card_after(w, [(500, 1), (429, 1), (502, 1)])
    assert [a.status for a in sent] == [500, 429, 502, 200]
    g = gaps(sent)
    print("gaps between tries of the card: " + ", ".join(f"{x:.3f}s" for x in g))
    assert_about(g[0], 1.0 - JITTER, 1.0 + JITTER, "wait after the 500")
    assert_about(g[1], 1.0, 1.0, "wait after the 429")
    assert_about(g[2], 2.0 - JITTER * 2, 2.0 + JITTER * 2, "wait after the 502 (second 5xx)")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def refused(w: World, chat: int) -> bool:
    return any(a.status == 403 for a in tries(w.sandbox, chat))


async def test_a_foreign_group_refusing_the_goodbye_is_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as w:
        w.sandbox.add_chat(FOREIGN, "Random group", "supergroup")
        w.sandbox.add_bot_to_group(FOREIGN, EVE)
        w.sandbox.left_chats.add(FOREIGN)  # removed again before the bot could say why
        await w.wait(lambda: refused(w, FOREIGN))
        await w.settled()
    assert w.sent(FOREIGN) == []
    assert not errors(caplog), errors(caplog)
    notes = [r for r in caplog.records if str(FOREIGN) in r.getMessage()]
    assert notes and all(r.levelno in (logging.INFO, logging.WARNING) for r in notes), notes


async def test_a_refused_direct_message_is_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as w:
        w.sandbox.start_private(ANDI)
        await w.text_containing("Hello", chat=ANDI)
        w.sandbox.block_bot(ANDI)  # the bot still counts on his direct messages
        msg = w.say(RINA, "https://t.me/FakeNews/1")
        await w.reply_to(msg["message_id"])  # the card reaches the chat all the same
        await w.wait(lambda: refused(w, ANDI))
        await w.settled()
    assert not errors(caplog), errors(caplog)
    notes = [r for r in caplog.records if f"direct message to {ANDI}" in r.getMessage()]
    assert notes and all(r.levelno in (logging.INFO, logging.WARNING) for r in notes), notes
