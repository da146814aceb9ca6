"""The update pipeline: a handler that fails for a reason other than storage (a bug) has its
update's writes undone, and the bot goes on with the next update."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.services import Services
from storage import repository as repo
from tests.e2e.harness import RINA, running_bot


async def test_a_failing_handler_commits_nothing_of_its_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    paging = Services._page_on_call

    async def broken(self: Services, conn: Any, ids: list[int], *args: Any) -> None:
        await paging(self, conn, ids, *args)  # the ticket, its event, its card: all written
        if any(
            t.link and "broken_case" in t.link for t in await repo.list_tickets_by_ids(conn, ids)
        ):
            raise RuntimeError("a bug after the writes")

    monkeypatch.setattr(Services, "_page_on_call", broken)
    caplog.set_level(logging.ERROR)
    async with running_bot(tmp_path) as w:
        bad = w.say(RINA, "t.me/broken_case/1")
        good = w.say(RINA, "t.me/fine_case/2")
        card = await w.reply_to(good["message_id"])
        await w.settled()
        records = await w.export()
        assert [r["link"] for r in records] == ["https://t.me/fine_case/2"]
        assert "#1" in card.text  # the undone ticket left no number behind
        assert not [m for m in w.sent() if m.reply_to == bad["message_id"]]
        assert any("its writes are undone" in r.getMessage() for r in caplog.records)
