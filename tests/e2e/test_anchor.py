"""/anchor through the sandbox: the chain head posted in the chat checks an export."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.sandbox.demo import ANCHOR, rechain
from tests.e2e.harness import ANDI, RINA, SARI, SUP_CHAT, running_bot
from tests.test_proof import run_verify


async def test_an_anchor_from_the_chat_checks_an_export(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        for n in (1, 2):
            msg = w.say(RINA, f"t.me/anchor_channel/{n}")
            await w.reply_to(msg["message_id"])
        w.say(ANDI, "/ack 1")
        await w.settled()
        refused = w.say(RINA, "/anchor")
        assert "not for your role" in (await w.reply_to(refused["message_id"])).text
        asked = w.say(SARI, "/anchor", chat=SUP_CHAT)
        posted = await w.reply_to(asked["message_id"], chat=SUP_CHAT)
        assert "Chain head: seq" in posted.text
        found = ANCHOR.search(posted.text)
        assert found is not None, posted.text
        seq, digest = int(found.group(1)), found.group(2)
        w.say(SARI, "/export", chat=SUP_CHAT)
        doc = await w.wait(
            lambda: next((m for m in w.sent(SUP_CHAT) if m.kind == "document"), None)
        )
    records = json.loads((doc.file_bytes or b"").decode("utf-8"))
    assert [r["id"] for r in records if "id" in r] == [1, 2]  # the list of tickets as before
    [anchor] = records[-1]["events"]  # then the events of no ticket
    assert "id" not in records[-1]
    assert anchor["kind"] == "anchored" and anchor["seq"] == seq + 1
    assert anchor["data"] == {
        "seq": seq,
        "hash": digest,
        "chat_id": SUP_CHAT,
        "message_id": posted.message_id,
    }
    good = tmp_path / "export.json"
    good.write_text(json.dumps(records), "utf-8")
    result = await asyncio.to_thread(run_verify, str(good), "--anchor", f"{seq}:{digest}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 2 tickets, ")
    # the history rewritten and re-hashed: consistent in itself, not with the chat
    note = records[0]["events"][0]
    note["detail"] = "https://t.me/something_else/1"
    rechain(records)
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(records), "utf-8")
    alone = await asyncio.to_thread(run_verify, str(forged))
    assert alone.returncode == 0, alone.stdout
    against = await asyncio.to_thread(run_verify, str(forged), "--anchor", f"{seq}:{digest}")
    assert against.returncode == 1
    assert f"seq {seq}, ticket #" in against.stdout
    assert f"differs from the anchor {digest}" in against.stdout


async def test_an_anchor_with_no_history_yet_says_so(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        asked = w.say(SARI, "/anchor", chat=SUP_CHAT)
        posted = await w.reply_to(asked["message_id"], chat=SUP_CHAT)
        assert "No events recorded yet" in posted.text
        await w.settled()
        async with w.services.db.read() as conn:
            assert (await conn.chain_head())[0] == 0  # nothing anchored, nothing recorded
