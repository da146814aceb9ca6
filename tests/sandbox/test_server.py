"""The sandbox Bot API, driven by PTB's real HTTP stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    MessageOriginChannel,
    MessageOriginHiddenUser,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.sandbox.client import SandboxClient, SandboxError
from bot.sandbox.server import Sandbox, parse_html

LIAISON = -1001234567890
OTHER_GROUP = -1009876543210
ANN = 1001  # has started the bot
BUDI = 1002  # has not
CHANNEL = -1001111111111
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error here) when it builds a RetryAfter unless this opt-in is set.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(group_window=0.5)
    sb.add_user(ANN, "Ann", "ann_mod", started_bot=True)
    sb.add_user(BUDI, "Budi")
    sb.add_chat(LIAISON, "Liaison", username="liaison_chat")
    sb.add_chat(OTHER_GROUP, "Other", kind="group")
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with Bot(sandbox.token, base_url=sandbox.base_url) as b:
        yield b


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


# --------------------------------------------------------------------------- getMe, updates


async def test_get_me_describes_the_bot(sandbox: Sandbox, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.username == "liaison_sandbox_bot"
    assert me.can_read_all_group_messages is True
    assert me.can_join_groups is True
    assert sandbox.calls[0][0] == "getMe"


async def test_get_me_reports_privacy_mode() -> None:
    async with (
        Sandbox(can_read_all_group_messages=False) as sb,
        Bot(sb.token, base_url=sb.base_url) as b,
    ):
        assert (await b.get_me()).can_read_all_group_messages is False


async def test_updates_stay_until_a_later_offset_confirms_them(sandbox: Sandbox, bot: Bot) -> None:
    ids = [sandbox.send_text(LIAISON, ANN, f"hello {n}")["message_id"] for n in range(3)]
    first = await bot.get_updates()
    again = await bot.get_updates()
    assert [u.message.message_id for u in first if u.message] == ids
    assert [u.update_id for u in again] == [u.update_id for u in first]
    assert sandbox.pending_updates() == 3

    rest = await bot.get_updates(offset=first[1].update_id)
    assert [u.update_id for u in rest] == [u.update_id for u in first[1:]]
    assert sandbox.confirmed_offset == first[1].update_id

    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    assert sandbox.pending_updates() == 0
    assert sandbox.confirmed_offset == first[-1].update_id + 1


async def test_renumbered_updates_reach_a_bot_whose_offset_is_from_the_old_sequence(
    sandbox: Sandbox, bot: Bot
) -> None:
    for n in range(5):
        sandbox.send_text(LIAISON, ANN, f"old {n}")
    old = await bot.get_updates()
    offset = old[-1].update_id + 1
    assert await bot.get_updates(offset=offset) == ()
    sandbox.renumber_updates(2)
    sandbox.send_text(LIAISON, ANN, "after a quiet week")
    # the offset is above every id of the new sequence: it confirms nothing
    [new] = await bot.get_updates(offset=offset)
    assert new.update_id == 2
    assert new.message is not None and new.message.text == "after a quiet week"
    assert await bot.get_updates(offset=3) == ()
    with pytest.raises(ValueError, match="positive"):
        sandbox.renumber_updates(0)


async def test_limit_and_negative_offset(sandbox: Sandbox, bot: Bot) -> None:
    ids = [sandbox.push_update({"future_update_kind": {"n": n}}) for n in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-2)] == ids[-2:]
    assert sandbox.pending_updates() == 2


async def test_long_poll_answers_as_soon_as_an_update_arrives(sandbox: Sandbox, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await sandbox.wait_for(lambda: sandbox.call_count("getUpdates") == 1)
    started = loop.time()
    sandbox.send_text(LIAISON, ANN, "now")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - started < 2
    assert [u.message.text for u in updates if u.message] == ["now"]


async def test_long_poll_without_updates_ends_after_its_timeout(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 5


async def test_a_second_poller_ends_the_first_with_409(sandbox: Sandbox, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await sandbox.wait_for(lambda: sandbox.call_count("getUpdates") == 1)
    async with Bot(sandbox.token, base_url=sandbox.base_url) as second:
        with pytest.raises(Conflict):
            await asyncio.gather(first, second.get_updates(timeout=0))


async def test_stop_ends_promptly_with_a_poll_pending(sandbox: Sandbox, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await sandbox.wait_for(lambda: sandbox.call_count("getUpdates") == 1)
    await asyncio.wait_for(sandbox.stop(), 3)
    assert await asyncio.wait_for(poll, 3) == ()


# --------------------------------------------------------------------------- incoming entities


async def test_entity_offsets_count_utf16_units(sandbox: Sandbox, bot: Bot) -> None:
    text = (
        "😀🇮🇩 lapor t.me/durov/5, lihat https://example.com/a?b=1 /ack@x_bot_name #urgent @ann_mod"
    )
    sandbox.send_text(LIAISON, ANN, text)
    (update,) = await bot.get_updates()
    assert update.message is not None
    entities = update.message.parse_entities()
    assert list(entities.values()) == [
        "t.me/durov/5",
        "https://example.com/a?b=1",
        "/ack@x_bot_name",
        "#urgent",
        "@ann_mod",
    ]
    url = next(iter(entities))
    assert url.offset == len("😀🇮🇩 lapor ".encode("utf-16-le")) // 2 == 13


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("www.example.com and example.com", ["www.example.com", "example.com"]),
        ("(see telegram.me/foo/1).", ["telegram.me/foo/1"]),
        ("mail me at someone@example.com", []),
        ("file.txt is not a link", []),
        ("tg://resolve?domain=foo&post=2", ["tg://resolve?domain=foo&post=2"]),
    ],
)
async def test_url_detection(sandbox: Sandbox, bot: Bot, text: str, urls: list[str]) -> None:
    sandbox.send_text(LIAISON, ANN, text)
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert list(update.message.parse_entities([MessageEntity.URL]).values()) == urls


async def test_photo_captions_forwards_and_replies(sandbox: Sandbox, bot: Bot) -> None:
    base = sandbox.send_text(LIAISON, ANN, "first")
    sandbox.send_photo(LIAISON, ANN, "🔥 t.me/c/123/45", reply_to=base["message_id"])
    channel = sandbox.add_chat(CHANNEL, "Propaganda", "channel", username="propchan")
    sandbox.forward(LIAISON, ANN, Sandbox.origin_channel(channel, 77), "post text")
    sandbox.forward(LIAISON, ANN, Sandbox.origin_hidden_user("Someone"), "caption", photo=True)
    photo, fwd, hidden = [u.message for u in await bot.get_updates()][1:]
    assert photo is not None and fwd is not None and hidden is not None

    assert list(photo.parse_caption_entities().values()) == ["t.me/c/123/45"]
    assert photo.reply_to_message is not None
    assert photo.reply_to_message.message_id == base["message_id"]
    assert len({p.file_unique_id for p in photo.photo}) == 3
    assert isinstance(fwd.forward_origin, MessageOriginChannel)
    assert fwd.forward_origin.chat.username == "propchan"
    assert fwd.forward_origin.message_id == 77
    assert isinstance(hidden.forward_origin, MessageOriginHiddenUser)
    assert hidden.caption == "caption"
    assert hidden.photo[0].file_unique_id != photo.photo[0].file_unique_id


async def test_start_private_and_bot_added_to_group(sandbox: Sandbox, bot: Bot) -> None:
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(BUDI, "hi")
    sandbox.start_private(BUDI)
    sandbox.add_bot_to_group(OTHER_GROUP, BUDI)
    start, added = await bot.get_updates()
    assert start.message is not None and start.message.text == "/start"
    assert start.message.chat.type == "private"
    assert added.my_chat_member is not None
    assert added.my_chat_member.new_chat_member.status == "member"
    assert (await bot.send_message(BUDI, "hi")).chat.id == BUDI


async def test_privacy_mode_hides_plain_group_messages() -> None:
    async with Sandbox(can_read_all_group_messages=False) as sb:
        sb.add_user(ANN, "Ann", "ann_mod")
        sb.add_chat(LIAISON, "Liaison")
        async with Bot(sb.token, base_url=sb.base_url) as b:
            card = await b.send_message(LIAISON, "card")
            sb.send_text(LIAISON, ANN, "t.me/foo/1")
            sb.forward(LIAISON, ANN, Sandbox.origin_hidden_user("X"), "forwarded")
            sb.send_text(LIAISON, ANN, "/ack@other_bot 1")
            seen = [
                sb.send_text(LIAISON, ANN, "/ack 1")["message_id"],
                sb.send_text(LIAISON, ANN, "/ack@liaison_sandbox_bot 1")["message_id"],
                sb.send_text(LIAISON, ANN, "hey @liaison_sandbox_bot")["message_id"],
                sb.send_text(LIAISON, ANN, "done", reply_to=card.message_id)["message_id"],
            ]
            assert [u.message.message_id for u in await b.get_updates() if u.message] == seen
            assert [m.get("text") for m in sb.unseen] == [
                "t.me/foo/1",
                "forwarded",
                "/ack@other_bot 1",
            ]
            sb.set_admin(LIAISON, sb.bot_user["id"])  # an admin bot reads everything
            sb.send_text(LIAISON, ANN, "t.me/foo/2")
            assert len(await b.get_updates(offset=-1)) == 1


async def test_left_chats_and_allowed_updates(sandbox: Sandbox, bot: Bot) -> None:
    await bot.leave_chat(OTHER_GROUP)
    sandbox.send_text(OTHER_GROUP, ANN, "after the bot left")
    sandbox.push_update({"chat_member": {"whatever": 1}})  # not sent unless asked for
    sandbox.send_text(LIAISON, ANN, "hello")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["hello"]
    assert sandbox.pending_updates() == 1
    sandbox.add_bot_to_group(OTHER_GROUP, ANN)
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert len(updates) == 1
    assert sandbox.allowed_updates == ["message"]


# --------------------------------------------------------------------------- sending and editing


async def test_html_message_edits_and_keyboard(sandbox: Sandbox, bot: Bot) -> None:
    report = sandbox.send_text(LIAISON, ANN, "t.me/foo/1")
    card = await bot.send_message(
        LIAISON,
        '<b>#1</b> &lt;open&gt; <a href="https://t.me/foo/1">post</a> '
        '<a href="tg://user?id=1001">Ann</a>',
        parse_mode="HTML",
        reply_markup=keyboard("ack:1", "done:1"),
        reply_parameters=ReplyParameters(report["message_id"]),
    )
    assert card.text == "#1 <open> post Ann"
    assert card.message_id == report["message_id"] + 1  # one counter per chat
    types = [e.type for e in card.entities]
    assert types == ["bold", "text_link", "text_mention"]
    assert card.entities[2].user is not None and card.entities[2].user.id == ANN

    sent = sandbox.message(LIAISON, card.message_id)
    assert sent.text == "#1 <open> post Ann"
    assert sent.html is not None and sent.html.startswith("<b>#1</b>")
    assert sent.reply_to == report["message_id"]
    assert sent.buttons() == [("Ack:1", "ack:1"), ("Done:1", "done:1")]

    await bot.edit_message_text(
        "<b>#1</b> acknowledged",
        chat_id=LIAISON,
        message_id=card.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("done:1"),
    )
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "<b>#1</b> acknowledged",
            chat_id=LIAISON,
            message_id=card.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("done:1"),
        )
    edited = await bot.edit_message_text("#1 closed", chat_id=LIAISON, message_id=card.message_id)
    assert isinstance(edited, type(card)) and edited.reply_markup is None
    assert sent.edits == ["#1 <open> post Ann", "#1 acknowledged"]
    assert sent.text == "#1 closed" and sent.buttons() == []

    await bot.edit_message_reply_markup(LIAISON, card.message_id, reply_markup=keyboard("x"))
    assert sent.buttons() == [("X", "x")]
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(LIAISON, card.message_id, reply_markup=keyboard("x"))

    assert await bot.delete_message(LIAISON, card.message_id)
    assert sandbox.messages(LIAISON) == []
    with pytest.raises(BadRequest, match="to edit not found"):
        await bot.edit_message_text("again", chat_id=LIAISON, message_id=card.message_id)


async def test_message_ids_and_chat_by_username(sandbox: Sandbox, bot: Bot) -> None:
    first = await bot.send_message("@liaison_chat", "one")
    second = await bot.send_message(LIAISON, "two")
    assert (first.chat.id, second.message_id) == (LIAISON, first.message_id + 1)
    assert [m.text for m in sandbox.messages(LIAISON)] == ["one", "two"]


def test_parse_html_matches_telegram() -> None:
    text, entities = parse_html("<pre><code class='language-py'>x = 1</code></pre> 😀 <i>é</i>")
    assert text == "x = 1 😀 é"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "py"},
        {"type": "italic", "offset": 9, "length": 1},
    ]
    assert parse_html("a &amp; b &#x27;c&#39; &nbsp; &")[0] == "a & b 'c' &nbsp; &"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("é<b>x</i>", 'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
    ],
)
async def test_bad_html_is_a_bad_request(bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(LIAISON, html, parse_mode="HTML")
    # PTB strips "Bad Request: " and lower-cases everything after the first letter.
    assert caught.value.message == f"Can't parse entities: {reason}".capitalize()


# --------------------------------------------------------------------------- error statuses


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"text": "x" * 4097}, BadRequest, "Message is too long"),
        ({"text": "  \n "}, BadRequest, "Message text is empty"),
        ({"chat_id": -100999, "text": "x"}, BadRequest, "Chat not found"),
        ({"chat_id": BUDI, "text": "x"}, Forbidden, "bot can't initiate conversation"),
        ({"text": "x", "reply_to_message_id": 999}, BadRequest, "Message to be replied not found"),
        (
            {"text": "x", "reply_markup": keyboard("é" * 33)},
            BadRequest,
            "Button_data_invalid",
        ),
    ],
)
async def test_send_message_errors(
    sandbox: Sandbox, bot: Bot, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await bot.send_message(**{"chat_id": LIAISON, **kwargs})  # type: ignore[arg-type]
    assert sandbox.messages(LIAISON) == []
    assert sandbox.calls[-1][0] == "sendMessage"


async def test_limits_count_text_after_entity_parsing(sandbox: Sandbox, bot: Bot) -> None:
    await bot.send_message(LIAISON, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(LIAISON, "😀" * 4096)  # code points, not UTF-16 units
    await bot.send_photo(LIAISON, b"img", caption="c" * 1024)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(LIAISON, b"img", caption="c" * 1025)
    reply = await bot.send_message(
        LIAISON, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    assert reply.reply_to_message is None
    assert len(sandbox.messages(LIAISON)) == 4


async def test_token_and_method_errors(sandbox: Sandbox, bot: Bot) -> None:
    for token in ("999:wrong-token", "not-a-token"):
        with pytest.raises(InvalidToken):
            async with Bot(token, base_url=sandbox.base_url):
                pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert [m for m, _ in sandbox.calls[-3:]] == ["getMe", "getMe", "noSuchMethod"]


async def test_chats_members_and_leaving(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.send_text(LIAISON, ANN, "hi")
    sandbox.set_admin(LIAISON, sandbox.bot_user["id"])
    assert (await bot.get_chat_member(LIAISON, ANN)).status == "member"
    assert (await bot.get_chat_member(LIAISON, BUDI)).status == "left"
    assert (await bot.get_chat_member(LIAISON, 123456)).status == "administrator"
    assert (await bot.get_chat(LIAISON)).title == "Liaison"
    assert await bot.send_chat_action(LIAISON, "typing")
    assert await bot.set_my_commands([("ack", "acknowledge")])
    assert await bot.leave_chat(OTHER_GROUP)
    assert sandbox.left_chats == {OTHER_GROUP}
    assert (await bot.get_chat_member(OTHER_GROUP, 123456)).status == "left"
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(OTHER_GROUP, "still here?")


# --------------------------------------------------------------------------- group limit


async def test_group_limit_answers_429_until_the_window_slides(sandbox: Sandbox, bot: Bot) -> None:
    for n in range(20):
        await bot.send_message(LIAISON, f"m{n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(LIAISON, "one too many")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert sandbox.rejected_429 == 1
    assert len(sandbox.messages(LIAISON)) == 20
    await bot.send_message(ANN, "private chats are not limited")
    await bot.send_message(OTHER_GROUP, "nor are other groups")

    # The window is 0.5 s: wait until the first send has left it, then there is room.
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, sandbox.messages(LIAISON)[0].sent_at + 0.5 - loop.time()))
    await bot.send_message(LIAISON, "room again")

    sandbox.group_limit = None
    for n in range(25):
        await bot.send_message(LIAISON, f"unlimited {n}")
    assert len(sandbox.messages(LIAISON)) == 46


async def test_group_limit_retry_after_rounds_up() -> None:
    async with (
        Sandbox(group_limit=2, group_window=30) as sb,
        Bot(sb.token, base_url=sb.base_url) as b,
    ):
        sb.add_chat(LIAISON, "Liaison")
        await b.send_message(LIAISON, "1")
        await b.send_message(LIAISON, "2")
        with pytest.raises(RetryAfter) as caught:
            await b.send_photo(LIAISON, b"img")
        retry_after = caught.value.retry_after
        assert isinstance(retry_after, dtm.timedelta)
        assert dtm.timedelta(seconds=29) <= retry_after <= dtm.timedelta(seconds=30)


# --------------------------------------------------------------------------- uploads, buttons


async def test_multipart_uploads_keep_name_and_bytes(sandbox: Sandbox, bot: Bot) -> None:
    doc = await bot.send_document(
        LIAISON,
        b"id,link\n1,t.me/x/1\n",
        filename="report.csv",
        caption="<b>CSV</b>",
        parse_mode="HTML",
    )
    photo = await bot.send_photo(LIAISON, b"\x89PNG chart", filename="chart.png", caption="chart")
    assert doc.document is not None and doc.document.file_name == "report.csv"
    assert doc.caption == "CSV" and photo.caption == "chart"
    assert len(photo.photo) == 3
    sent_doc, sent_photo = sandbox.messages(LIAISON)
    assert (sent_doc.kind, sent_doc.file_name, sent_doc.file_bytes) == (
        "document",
        "report.csv",
        b"id,link\n1,t.me/x/1\n",
    )
    assert sent_doc.caption == "CSV" and sent_doc.html == "<b>CSV</b>"
    assert (sent_photo.kind, sent_photo.file_name, sent_photo.file_bytes) == (
        "photo",
        "chart.png",
        b"\x89PNG chart",
    )


async def test_press_button_round_trip(sandbox: Sandbox, bot: Bot) -> None:
    card = await bot.send_message(LIAISON, "#1", reply_markup=keyboard("ack:1"))
    with pytest.raises(ValueError, match="no button"):
        sandbox.press_button(LIAISON, ANN, card.message_id, "nope")
    sandbox.press_button(LIAISON, ANN, card.message_id, "ack:1")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "ack:1"
    assert query.from_user.id == ANN
    assert query.message is not None and query.message.message_id == card.message_id

    with pytest.raises(BadRequest):
        await query.answer("x" * 201)
    assert await query.answer("Taken")
    assert sandbox.callback_answers[query.id]["text"] == "Taken"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("twice")


async def test_raw_updates_of_any_shape(sandbox: Sandbox, bot: Bot) -> None:
    assert sandbox.push_update({"update_id": 500, "weird": True}) == 500
    assert sandbox.push_update({"another": [1, 2]}) == 501
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [500, 501]
    assert updates[0].api_kwargs == {"weird": True}
    # PTB parses a batch as a whole: one malformed message fails the entire getUpdates call.
    sandbox.push_update({"message": {"text": "no date, chat or id"}})
    with pytest.raises(KeyError):
        await bot.get_updates(offset=502)


# --------------------------------------------------------------------------- faults


async def test_fail_next(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.fail_next("sendMessage", 429, retry_after=7)
    sandbox.fail_next(None, 500, count=2, description="Internal Server Error: boom")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(LIAISON, "a")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert await bot.get_updates() == ()  # getUpdates is spared by method=None
    for _ in range(2):
        with pytest.raises(NetworkError, match="boom"):
            await bot.send_chat_action(LIAISON, "typing")
    await bot.send_message(LIAISON, "b")
    assert sandbox.rejected_429 == 1
    assert [m.text for m in sandbox.messages(LIAISON)] == ["b"]
    assert [m for m, _ in sandbox.calls] == [
        "getMe",
        "sendMessage",
        "getUpdates",
        "sendChatAction",
        "sendChatAction",
        "sendMessage",
    ]


async def _outcomes(seed: int) -> list[str]:
    async with (
        Sandbox(group_limit=None) as sb,
        Bot(sb.token, base_url=sb.base_url) as b,
    ):
        sb.add_chat(LIAISON, "Liaison")
        sb.fail_randomly(0.4, seed=seed)
        outcomes = []
        for n in range(30):
            try:
                await b.send_message(LIAISON, f"m{n}")
                outcomes.append("ok")
            except (RetryAfter, NetworkError) as exc:
                outcomes.append(type(exc).__name__)
        assert await b.get_updates() == ()  # spared
        sb.fail_randomly(0, seed=seed)
        await b.send_message(LIAISON, "off again")
        assert len(sb.messages(LIAISON)) == outcomes.count("ok") + 1
        return outcomes


async def test_fail_randomly_is_reproducible() -> None:
    first, second = await _outcomes(seed=7), await _outcomes(seed=7)
    assert first == second
    assert {"ok", "RetryAfter", "NetworkError"} <= set(first)


async def test_a_timeout_fault_hangs_until_the_client_gives_up(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.fail_randomly(1.0, seed=1, timeout_share=1.0, hang=30)
    with pytest.raises(TimedOut):
        await bot.send_message(LIAISON, "lost", read_timeout=0.2)
    assert sandbox.messages(LIAISON) == []
    await asyncio.wait_for(sandbox.stop(), 3)  # the hung request does not hold up stop()


async def test_wait_for_explains_a_timeout(sandbox: Sandbox, bot: Bot) -> None:
    await bot.send_message(LIAISON, "something")
    with pytest.raises(TimeoutError, match=r"a reply in chat(.|\n)*sendMessage"):
        await sandbox.wait_for(lambda: None, 0.05, what="a reply in chat")


# --------------------------------------------------------------------------- control API


async def test_control_api_in_process(sandbox: Sandbox, bot: Bot) -> None:
    async with SandboxClient(f"http://127.0.0.1:{sandbox.port}") as client:
        assert (await client.configure(group_limit=None))["group_limit"] is None
        assert sandbox.group_limit is None
        await client.add_user(2001, "Sari", "sari_lead")
        sent = await client.send_texts(
            [{"chat_id": LIAISON, "user_id": 2001, "text": f"t.me/x/{n}"} for n in range(3)]
        )
        assert [m["message_id"] for m in sent] == [1, 2, 3]
        with pytest.raises(SandboxError, match="unknown chat"):
            await client.send_text(-1005, 2001, "nowhere")
        await bot.send_message(LIAISON, "ok", reply_markup=keyboard("ack:1"))
        (message,) = await client.messages(LIAISON)
        assert message["text"] == "ok" and message["reply_markup"]["inline_keyboard"]
        stats = await client.stats()
        assert stats["calls"]["sendMessage"] == 1
        assert stats["pending_updates"] == 3


async def test_control_api_against_a_subprocess() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox",
        "--port",
        "0",
        "--group-limit",
        "none",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
        assert line.startswith("sandbox listening on http://127.0.0.1:")
        base = line.removeprefix("sandbox listening on ")
        async with SandboxClient(base) as client:
            await client.wait_ready()
            await client.add_user(ANN, "Ann", "ann_mod", started_bot=True)
            await client.add_chat(LIAISON, "Liaison")
            channel = await client.add_chat(CHANNEL, "Chan", "channel", "propchan")
            await client.forward(LIAISON, ANN, Sandbox.origin_channel(channel, 5, date=0))
            async with Bot("123456:SANDBOX-token", base_url=f"{base}/bot") as b:
                (update,) = await b.get_updates()
                assert update.message is not None
                assert isinstance(update.message.forward_origin, MessageOriginChannel)
                for n in range(25):  # --group-limit none
                    await b.send_message(LIAISON, f"m{n}")
                await client.wait_messages(LIAISON, 25, timeout=5)
                await b.get_updates(offset=update.update_id + 1)
            stats = await client.stats()
            assert stats["calls"]["sendMessage"] == 25
            assert stats["rejected_429"] == 0
            assert stats["pending_updates"] == 0
            assert stats["confirmed_offset"] == update.update_id + 1
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0


# --------------------------------------------------------------------------- forum topics


async def test_topics_replies_stay_in_their_topic_and_a_wrong_thread_is_refused(
    sandbox: Sandbox, bot: Bot
) -> None:
    topic = sandbox.open_topic(LIAISON, ANN, "Reports")
    assert topic != 1  # thread 1 is General, never a topic
    report = sandbox.say_in_topic(LIAISON, ANN, topic, "t.me/x/1")
    reply = await bot.send_message(LIAISON, "answer", reply_to_message_id=report["message_id"])
    assert reply.message_thread_id == topic and reply.is_topic_message
    notice = await bot.send_message(LIAISON, "notice", message_thread_id=topic)
    assert notice.message_thread_id == topic
    assert (await bot.send_message(LIAISON, "general")).message_thread_id is None
    for wrong in (1, topic + 50):
        with pytest.raises(BadRequest, match="thread not found"):
            await bot.send_message(LIAISON, "lost", message_thread_id=wrong)
    with pytest.raises(BadRequest, match="thread not found"):
        await bot.send_message(OTHER_GROUP, "not a forum", message_thread_id=topic)
