"""Intake through the sandbox: links, forwards and captions become tickets exactly once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sandbox.server import Sandbox, utf16_len
from storage import repository as repo
from tests.e2e.harness import ANDI, CHAT, DEWI, RINA, World, running_bot

PRIVATE_CHANNEL = -1001234567890  # internal id 1234567890


async def evidence_of(w: World, ticket_id: int) -> list[repo.Evidence]:
    async with w.services.db.read() as conn:
        return await repo.list_evidence(conn, ticket_id)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def replies_to(w: World, message_id: int) -> list[Any]:
    return [m for m in w.sent() if m.reply_to == message_id]


async def test_plain_link_becomes_one_ticket_with_a_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "Propaganda di sini: https://t.me/FakeNews/123 tolong cek")
        card = await w.reply_to(msg["message_id"])
        assert card.text.startswith("📌 Ticket #1")
        assert "https://t.me/FakeNews/123" in card.text
        assert "Status: Open" in card.text
        assert "Deadline: " in card.text
        assert "On call: Andi Wijaya @andi_mod · +62 811 0000 0001" in card.text
        assert [label for label, _ in card.buttons()] == [
            "✅ Acknowledge",
            "🗑 Removed",
            "✖️ Reject",
            "🏷 Category",
        ]
        # the mention notifies even someone without a username: a tg://user link
        assert 'href="tg://user?id=1001"' in (card.html or "")
        await w.settled()
        assert len(w.sent()) == 1
        [record] = await w.export()
        assert record["id"] == 1
        assert record["report_count"] == 1
        assert record["urgent"] is False
        assert record["assignee_id"] is None
        assert record["reopened_from"] is None
        assert record["outcome"] is None
        assert record["closed_at"] is None
        created = at(record["created_at"])
        assert created.utcoffset() is not None
        assert at(record["deadline_at"]) - created == timedelta(hours=4)
        assert record["events"][0]["actor_id"] == RINA
        assert record["events"][0]["detail"] == "https://t.me/FakeNews/123"


async def test_same_content_written_differently_is_one_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "https://t.me/FakeNews/123")
        card = await w.reply_to(first["message_id"])
        spellings = [
            "telegram.me/FakeNews/123",
            "HTTPS://T.ME/FAKENEWS/123",
            "https://t.me/fakenews/123?single",
            "t.me/s/FakeNews/123",
            "www.telegram.dog/FakeNews/123",
        ]
        for n, spelling in enumerate(spellings, start=2):
            msg = w.say(DEWI, f"ini juga {spelling}")
            reply = await w.reply_to(msg["message_id"])
            tracked, receipt = reply.text.split("\n")  # the second line: the receipt
            assert tracked == f"🔁 Already tracked: #1 https://t.me/FakeNews/123 (reported {n}×)"
            assert receipt.startswith("🧾 Receipt: ")
            assert reply.buttons() == []
        await w.settled()
        [record] = await w.export()
        assert record["report_count"] == 1 + len(spellings)
        assert record["link"] == "https://t.me/FakeNews/123"  # the first spelling stays
        kinds = [e["kind"] for e in record["events"]]
        assert kinds == ["created"] + ["duplicate"] * len(spellings)
        assert {e["actor_id"] for e in record["events"][1:]} == {DEWI}
        # the card is edited in place with the count
        final = w.sandbox.message(CHAT, card.message_id)
        assert f"Reported {1 + len(spellings)}×" in final.text
        assert final.edits
        # only the card and one reply per duplicate: no new cards
        assert len(w.sent()) == 1 + len(spellings)


async def test_several_links_give_several_tickets_and_one_reply(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(
            RINA,
            "Tiga postingan:\nhttps://t.me/ChanA/1\nt.me/ChanB/2\ntelegram.me/ChanC/3\n"
            "dan lagi https://t.me/ChanA/1",
        )
        card = await w.reply_to(msg["message_id"])
        await w.settled()
        assert replies_to(w, msg["message_id"]) == [card]
        assert len(w.sent()) == 1
        assert card.text.startswith("📥 3 new tickets")
        for ref in (
            "#1 https://t.me/ChanA/1",
            "#2 https://t.me/ChanB/2",
            "#3 https://t.me/ChanC/3",
        ):
            assert ref in card.text
        assert "On call: Andi Wijaya" in card.text
        assert card.buttons() == [("✅ Acknowledge all (3)", "ackall")]
        records = await w.export()
        assert [r["link"] for r in records] == [
            "https://t.me/ChanA/1",
            "https://t.me/ChanB/2",
            "https://t.me/ChanC/3",
        ]
        assert all(r["report_count"] == 1 and r["reporter_id"] == RINA for r in records)


async def test_new_and_known_links_in_one_message(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "t.me/ChanA/1")
        await w.reply_to(first["message_id"])
        msg = w.say(DEWI, "t.me/ChanA/1 t.me/ChanB/2")
        card = await w.reply_to(msg["message_id"])
        await w.settled()
        # one reply: the new ticket's card, naming the ticket that already tracks the other
        assert replies_to(w, msg["message_id"]) == [card]
        assert card.text.startswith("📌 Ticket #2\nhttps://t.me/ChanB/2")
        assert card.text.endswith("Already tracked: #1 https://t.me/ChanA/1 (reported 2×)")
        assert [d for _, d in card.buttons()] == ["ack:2", "done:2", "rej:2", "cat:2"]
        one, two = await w.export()
        assert one["report_count"] == 2
        assert two["report_count"] == 1
        # the card is edited in place later without losing that line
        w.say(ANDI, "/ack 2")
        await w.wait(lambda: "Acknowledged" in card.text)
        assert "Already tracked: #1" in card.text
        assert card.edits == [card.edits[0]]  # one edit: the acknowledgement


async def test_a_long_list_of_links_is_split_and_stays_whole_when_edited(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as w:
        known = w.say(RINA, "t.me/Channel005/5")
        await w.reply_to(known["message_id"])
        links = "\n".join(f"https://t.me/Channel{n:03d}/{n}" for n in range(1, 121))
        msg = w.say(DEWI, links)
        await w.reply_to(msg["message_id"])
        await w.wait(lambda: sum("new tickets" in m.text for m in w.sent()) >= 3)
        await w.settled()
        cards = [m for m in w.sent() if "new tickets" in m.text]
        assert cards[0].reply_to == msg["message_id"]
        assert all(len(c.text) <= 4096 for c in cards)
        assert all(c.edits == [] for c in cards)  # sent as they will be shown
        shown = [int(x) for c in cards for x in re.findall(r"^#(\d+) ", c.text, re.MULTILINE)]
        assert shown == list(range(2, 121))  # 119 new tickets, each listed once
        for c in cards:
            n = len(re.findall(r"^#\d+ ", c.text, re.MULTILINE))
            assert c.text.startswith(f"📥 {n} new tickets")
            assert c.buttons() == [(f"✅ Acknowledge all ({n})", "ackall")]
            assert "Already tracked: #1 https://t.me/Channel005/5 (reported 2×)" in c.text
        # acknowledging one message's tickets edits it in place: nothing drops off
        second = cards[1]
        before = re.findall(r"^#(\d+) ", second.text, re.MULTILINE)
        w.sandbox.press_button(CHAT, ANDI, second.message_id, "ackall")
        await w.wait(lambda: second.edits)
        await w.settled()
        assert re.findall(r"^#(\d+) ", second.text, re.MULTILINE) == before
        assert len(second.text) <= 4096  # each line grew and ends with its receipt
        assert len(re.findall(r" · 🧾 [0-9a-f]{8}$", second.text, re.MULTILINE)) == len(before)
        assert second.text.count("Acknowledged") == len(before)
        records = await w.export()
        acked = [r["id"] for r in records if r["status"] == "acknowledged"]
        assert acked == [int(x) for x in before]
        # /open lists all 120 over several messages, none over the limit
        ask = w.say(RINA, "/open")
        await w.reply_to(ask["message_id"])
        await w.settled()
        parts = [m for m in w.sent() if m.message_id > ask["message_id"]]
        assert len(parts) >= 2
        assert parts[0].reply_to == ask["message_id"]
        assert all(len(p.text) <= 4096 for p in parts)
        assert parts[0].text.startswith("📋 120 open tickets")
        assert parts[-1].text.endswith(f"({len(parts)}/{len(parts)})")
        listed = [x for p in parts for x in re.findall(r"^#(\d+) ", p.text, re.MULTILINE)]
        assert sorted(int(x) for x in listed) == list(range(1, 121))


async def test_acknowledge_all_on_a_grouped_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "t.me/ChanA/1 t.me/ChanB/2")
        card = await w.reply_to(msg["message_id"])
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "ackall")
        await w.wait(lambda: w.sandbox.message(CHAT, card.message_id).edits)
        await w.settled()
        edited = w.sandbox.message(CHAT, card.message_id)
        assert edited.text.count("Acknowledged") == 2
        assert [(r["status"], r["assignee_id"]) for r in await w.export()] == [
            ("acknowledged", ANDI),
            ("acknowledged", ANDI),
        ]


async def test_closed_ticket_reported_again_opens_a_new_one(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "https://t.me/FakeNews/7")
        await w.reply_to(first["message_id"])
        w.say(ANDI, "/done 1")
        await w.text_containing("Your report #1")
        again = w.say(DEWI, "Muncul lagi: t.me/fakenews/7")
        card = await w.reply_to(again["message_id"])
        assert "📌 Ticket #2" in card.text
        assert "Content is back: earlier ticket #1" in card.text
        assert "Status: Open" in card.text
        old, new = await w.export()
        assert old["status"] == "removed"
        assert old["report_count"] == 1
        assert new["status"] == "open"
        assert new["reopened_from"] == 1
        assert new["reporter_id"] == DEWI
        assert [e["kind"] for e in new["events"]] == ["created", "reopened"]
        assert new["events"][1]["detail"] == "content back: #1"


async def test_forwarded_public_channel_post(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        channel = w.sandbox.add_chat(-1001777000001, "Berita Palsu", "channel", "BeritaPalsu")
        origin = Sandbox.origin_channel(channel, 4242, date=1_700_000_000)
        msg = w.sandbox.forward(CHAT, RINA, origin, "Isi postingan propaganda")
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/BeritaPalsu/4242" in card.text
        [record] = await w.export()
        assert record["link"] == "https://t.me/BeritaPalsu/4242"
        [ev] = await evidence_of(w, 1)
        assert ev.text == "Isi postingan propaganda"
        assert ev.origin_chat_id == -1001777000001
        assert ev.origin_message_id == 4242
        assert ev.origin_date is not None
        assert int(ev.origin_date.timestamp()) == 1_700_000_000
        assert ev.origin is not None and "BeritaPalsu" in ev.origin
        # the same post forwarded again, or pasted as a link, is the same ticket
        again = w.sandbox.forward(CHAT, DEWI, Sandbox.origin_channel(channel, 4242))
        dup = await w.reply_to(again["message_id"])
        assert "Already tracked: #1" in dup.text
        pasted = w.say(DEWI, "t.me/beritapalsu/4242")
        assert "Already tracked: #1" in (await w.reply_to(pasted["message_id"])).text
        [record] = await w.export()
        assert record["report_count"] == 3


async def test_forwarded_private_channel_post(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        channel = w.sandbox.add_chat(PRIVATE_CHANNEL, "Private propaganda", "channel")
        msg = w.sandbox.forward(CHAT, RINA, Sandbox.origin_channel(channel, 55), "teks")
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/c/1234567890/55" in card.text
        [record] = await w.export()
        assert record["link"] == "https://t.me/c/1234567890/55"
        # the link written by hand is the same content
        pasted = w.say(DEWI, "https://t.me/c/1234567890/55")
        assert "Already tracked: #1" in (await w.reply_to(pasted["message_id"])).text


async def test_forwards_without_a_link_still_become_tickets(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        group = w.sandbox.add_chat(-4001, "Some basic group", "group")
        origins = [
            Sandbox.origin_hidden_user("Anonymous Propagandist"),
            Sandbox.origin_user(w.sandbox.user(DEWI)),
            Sandbox.origin_chat(group),
        ]
        for n, origin in enumerate(origins, start=1):
            msg = w.sandbox.forward(CHAT, RINA, origin, f"isi pesan {n}")
            card = await w.reply_to(msg["message_id"])
            assert f"📌 Ticket #{n}" in card.text
            assert "forwarded message, no public link" in card.text
            # the card points at the forwarded message in the liaison chat
            target = f"https://t.me/c/1500000001/{msg['message_id']}"
            assert f'href="{target}"' in (card.html or "")
            [ev] = await evidence_of(w, n)
            assert ev.text == f"isi pesan {n}"
            assert ev.origin is not None and origin["type"] in ev.origin
        records = await w.export()
        assert [r["link"] for r in records] == [None, None, None]
        assert all(r["status"] == "open" for r in records)
        assert records[0]["events"][0]["detail"].startswith("forwarded message")


async def test_forward_with_a_link_in_its_text_uses_the_link(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        origin = Sandbox.origin_hidden_user("Someone")
        msg = w.sandbox.forward(CHAT, RINA, origin, "gabung t.me/SpreadChan/10")
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/SpreadChan/10" in card.text
        [record] = await w.export()
        assert record["link"] == "https://t.me/SpreadChan/10"


async def test_photo_caption_link_and_media_evidence(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.sandbox.send_photo(CHAT, RINA, "Tangkapan layar dari https://t.me/PhotoChan/3")
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/PhotoChan/3" in card.text
        [ev] = await evidence_of(w, 1)
        assert ev.text == "Tangkapan layar dari https://t.me/PhotoChan/3"
        largest = msg["photo"][-1]["file_unique_id"]
        assert ev.media == (largest,)


async def test_mini_app_and_percent_escaped_links_become_tickets(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(
            RINA,
            "Judi online: https://t.me/GambleBot/Slots?startapp=ref_77&mode=compact\n"
            "dan https://t%2Eme/PercentChan/%31%32",
        )
        card = await w.reply_to(msg["message_id"])
        assert card.text.startswith("📥 2 new tickets")
        assert "#1 https://t.me/GambleBot/Slots" in card.text
        assert "#2 https://t.me/PercentChan/12" in card.text
        assert "startapp" not in card.text and "%" not in card.text
        # the same two, written otherwise (tg:// form, port 443, extra path): duplicates
        again = w.say(
            DEWI, "tg://resolve?domain=gamblebot&appname=slots t.me:443/percentchan/12/x"
        )
        reply = await w.reply_to(again["message_id"])
        assert "#1" in reply.text and "#2" in reply.text
        await w.settled()
        records = await w.export()
        assert [r["link"] for r in records] == [
            "https://t.me/GambleBot/Slots",
            "https://t.me/PercentChan/12",
        ]
        assert [r["report_count"] for r in records] == [2, 2]


async def test_photo_caption_with_text_link_entity(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        caption = "🖼 lihat sumbernya"
        entity = {
            "type": "text_link",
            "offset": utf16_len("🖼 lihat "),
            "length": utf16_len("sumbernya"),
            "url": "https://t.me/CaptionChan/8",
        }
        msg = w.sandbox.send_photo(CHAT, RINA, caption, caption_entities=[entity])
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/CaptionChan/8" in card.text
        [record] = await w.export()
        assert record["link"] == "https://t.me/CaptionChan/8"


async def test_link_hidden_behind_words(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        text = "Tolong cek postingan ini segera"
        entity = {
            "type": "text_link",
            "offset": text.index("postingan ini"),
            "length": len("postingan ini"),
            "url": "https://telegram.me/HiddenChan/77?single",
        }
        msg = w.say(RINA, text, entities=[entity])
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/HiddenChan/77" in card.text
        [record] = await w.export()
        assert record["link"] == "https://t.me/HiddenChan/77"


async def test_url_entity_after_emoji_counts_utf16(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        # astral emoji are two UTF-16 units each: a code-point slice would miss the link
        text = "🔥🇮🇩👉 t.me/EmojiChan/9 👈 dan 🙏 https://t.me/EmojiChan/10"
        msg = w.say(RINA, text)
        urls = [e for e in msg["entities"] if e["type"] == "url"]
        assert urls[0]["offset"] == utf16_len("🔥🇮🇩👉 ") != len("🔥🇮🇩👉 ")
        card = await w.reply_to(msg["message_id"])
        assert "#1 https://t.me/EmojiChan/9" in card.text
        assert "#2 https://t.me/EmojiChan/10" in card.text
        await w.settled()
        assert [r["link"] for r in await w.export()] == [
            "https://t.me/EmojiChan/9",
            "https://t.me/EmojiChan/10",
        ]


async def test_text_link_after_emoji_is_the_only_source(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        text = "🚨🚨 Lihat di sini 🙏"
        entity = {
            "type": "text_link",
            "offset": utf16_len("🚨🚨 Lihat "),
            "length": utf16_len("di sini"),
            "url": "t.me/OnlyEntity/5",
        }
        msg = w.say(RINA, text, entities=[entity])
        card = await w.reply_to(msg["message_id"])
        assert "https://t.me/OnlyEntity/5" in card.text
        [record] = await w.export()
        assert record["link"] == "https://t.me/OnlyEntity/5"


async def test_chatter_gets_no_reply_and_no_ticket(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        quiet = [
            w.say(RINA, "Selamat pagi semua 🙏"),
            w.say(DEWI, "Terima kasih, Pak Andi. Mr.Smith sudah hadir."),
            w.say(RINA, "Rapat jam 10.30, ok? Kirim ke budi@kominfo.go.id"),
            w.say(DEWI, "#urgent"),  # urgent, but about nothing
            w.say(DEWI, "t.me/addstickers/SomePack"),  # a sticker set is not content
        ]
        marker = w.say(RINA, "t.me/Marker/1")
        await w.reply_to(marker["message_id"])
        await w.settled()
        for msg in quiet:
            assert replies_to(w, msg["message_id"]) == []
        assert len(w.sent()) == 1
        [record] = await w.export()
        assert record["link"] == "https://t.me/Marker/1"


async def test_foreign_url_only_gets_one_short_hint(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "Lihat https://example.com/propaganda/123")
        hint = await w.reply_to(msg["message_id"])
        await w.settled()
        assert hint.text == (
            "ℹ️ No Telegram link in this message. Send a t.me link or forward the post."
        )
        assert hint.buttons() == []
        assert len(w.sent()) == 1
        assert await w.export() == []
        # a foreign URL next to a Telegram link is just a report
        both = w.say(RINA, "https://example.com/x dan https://t.me/RealChan/1")
        card = await w.reply_to(both["message_id"])
        assert "📌 Ticket #1" in card.text
        await w.settled()
        assert len(replies_to(w, both["message_id"])) == 1


async def test_urgent_report_has_a_shorter_deadline(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        normal = w.say(RINA, "t.me/SlowChan/1")
        await w.reply_to(normal["message_id"])
        urgent = w.say(RINA, "#urgent teror: t.me/FastChan/2")
        card = await w.reply_to(urgent["message_id"])
        assert "📌 Ticket #2 · 🔴 URGENT" in card.text
        shout = w.say(DEWI, "!URGENT t.me/FastChan/3")
        await w.reply_to(shout["message_id"])
        one, two, three = await w.export()
        assert one["urgent"] is False
        assert two["urgent"] is True and three["urgent"] is True
        assert at(one["deadline_at"]) - at(one["created_at"]) == timedelta(hours=4)
        assert at(two["deadline_at"]) - at(two["created_at"]) == timedelta(hours=1)
        assert two["events"][0]["detail"].endswith("(urgent)")


async def test_urgent_duplicate_makes_the_open_ticket_urgent(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "t.me/SlowChan/1")
        await w.reply_to(first["message_id"])
        again = w.say(DEWI, "t.me/SlowChan/1 #urgent")
        await w.reply_to(again["message_id"])
        [record] = await w.export()
        assert record["urgent"] is True
        assert at(record["deadline_at"]) - at(record["created_at"]) == timedelta(hours=1)
        assert [e["kind"] for e in record["events"]] == ["created", "duplicate", "urgent"]


async def test_evidence_is_kept_and_shown_in_the_ticket_detail(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "Bukti: pesan ajakan kekerasan https://t.me/EvilChan/66")
        await w.reply_to(msg["message_id"])
        [ev] = await evidence_of(w, 1)
        assert ev.text == "Bukti: pesan ajakan kekerasan https://t.me/EvilChan/66"
        assert ev.media == ()
        dup = w.say(DEWI, "juga t.me/EvilChan/66")
        await w.reply_to(dup["message_id"])
        assert len(await evidence_of(w, 1)) == 2  # every report's evidence is kept
        ask = w.say(RINA, "/ticket 1")
        detail = await w.reply_to(ask["message_id"])
        assert "Evidence: 2 items kept" in detail.text


async def test_channel_roll_up_on_the_card(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "t.me/RollChan/1")
        card1 = await w.reply_to(first["message_id"])
        assert "This channel" not in card1.text
        second = w.say(RINA, "https://t.me/rollchan/2")
        card2 = await w.reply_to(second["message_id"])
        assert "This channel: 2 open tickets" in card2.text
        other = w.say(RINA, "t.me/OtherChan/1")
        assert "This channel" not in (await w.reply_to(other["message_id"])).text
        third = w.say(DEWI, "t.me/RollChan/3")
        card3 = await w.reply_to(third["message_id"])
        assert "This channel: 3 open tickets" in card3.text
        # closing one lowers the count shown on the other cards of that channel
        w.say(ANDI, "/done 1")
        await w.text_containing("Your report #1")
        ask = w.say(RINA, "/ticket 4")
        detail = await w.reply_to(ask["message_id"])
        assert "This channel: 2 open tickets" in detail.text


async def test_receipts_in_the_chat_match_the_export(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        first = w.say(RINA, "https://t.me/FakeNews/777")
        card = await w.reply_to(first["message_id"])
        again = w.say(DEWI, "t.me/FakeNews/777")
        dup = await w.reply_to(again["message_id"])
        await w.settled()
        [record] = await w.export()
    created, duplicate = record["events"][0], record["events"][1]
    assert (created["kind"], duplicate["kind"]) == ("created", "duplicate")
    assert f"🧾 Receipt: {created['hash'][:8]}" in card.text.split("\n")
    assert dup.text.split("\n")[-1] == f"🧾 Receipt: {duplicate['hash'][:8]}"


async def test_each_line_of_a_grouped_card_shows_its_receipt(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as w:
        msg = w.say(RINA, "https://t.me/ChanA/1\nt.me/ChanB/2\nt.me/ChanC/3")
        card = await w.reply_to(msg["message_id"])
        await w.settled()
        records = await w.export()
        lines = [x for x in card.text.split("\n") if x.startswith("#")]
        assert len(lines) == 3
        for line, record in zip(lines, records, strict=True):
            assert line.startswith(f"#{record['id']} ")
            assert line.endswith(f" · 🧾 {record['events'][0]['hash'][:8]}")
        # acknowledging edits the card in place: each line keeps its receipt
        w.sandbox.press_button(CHAT, ANDI, card.message_id, "ackall")
        await w.wait(lambda: card.edits)
        await w.settled()
        edited = [x for x in card.text.split("\n") if x.startswith("#")]
        assert [x.rsplit(" · ", 1)[1] for x in edited] == [x.rsplit(" · ", 1)[1] for x in lines]
