"""Hypothesis strategies for hostile updates, and what each one may legitimately cause.

An example is a raw update (any shape the sandbox can push) plus the set of ticket keys it
may create: usernames, ``c/<id>`` and ``+hash`` tokens that came from a genuine Telegram
link (a genuine fragment of the text, a URL an entity claims, a forwarded channel). A
ticket whose key is not in that set came from a look-alike domain.

Look-alike fragments use their own usernames and always stand between whitespace, so no
reading of the text can find a genuine link in them. Noise never contains ``. / : @ %``,
so it cannot form a link by itself (``%`` since percent-escapes such as ``t%2eme`` spell
links too); it does carry RTL marks, zero-width characters,
astral-plane characters (surrogate pairs in UTF-16), HTML and SQL-looking text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from hypothesis import strategies as st

from tests.e2e.harness import ANDI, BUDI, CHAT, DEWI, EVE, RINA, SARI, SUP_CHAT

GENUINE = ("GenuineChan", "real_news_id", "KanalAsli")
LOOKALIKE_USERS = ("LookAlikeA", "fake_chan_b")
LOOKALIKE_DOMAINS = (
    "t．me",  # fullwidth full stop
    "t。me",  # ideographic full stop
    "т.me",  # Cyrillic te
    "t.mе",  # Cyrillic ie
    "ṭ.me",  # t with dot below
    "t.rne",
    "t.mee",
    "xt.me",
    "t-me.com",
    "t.me.evil.com",
    "t.me-evil.com",
    "t.me@evil.com",
    "telegram.me.evil.com",
    "telegrarn.me",
    "telegram.dog.evil.com",
    "tеlеgram.me",  # Cyrillic ie twice
)
SPECIAL = (
    "\u202e",  # right-to-left override
    "\u202b",
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u2066",
    "😀",
    "👨‍👩‍👧",  # a ZWJ sequence
    "🇮🇩",
    "𝕥𝕖𝕝𝕖𝕘𝕣𝕒𝕞",  # mathematical letters: astral plane
    "مرحبا",
    "שלום",
    "e\u0301\u0301\u0301",  # stacked combining marks
    "<b>x</b><script>alert(1)</script>",
    "'); DROP TABLE tickets;--",
    "&amp;&lt;&#0;&#xD800;",
    "#urgent",
    "!urgent",
    "\n",
    "\t",
    "\x00",
    "\x7f",
)
ENTITY_TYPES = (
    "url",
    "text_link",
    "bold",
    "italic",
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "code",
    "pre",
    "text_mention",
    "custom_emoji",
    "spoiler",
    "blockquote",
    "email",
    "phone_number",
    "underline",
    "strikethrough",
    "no_such_entity",
)
COMMANDS = (
    "ack",
    "done",
    "removed",
    "reject",
    "note",
    "clarify",
    "reopen",
    "assign",
    "ticket",
    "open",
    "oncall",
    "help",
    "start",
    "stats",
    "nonsense",
)
USERS = (RINA, DEWI, EVE, ANDI, BUDI, SARI, 987_654_321)
FOREIGN = -1_009_999_000_001
# a URL an entity claims that is genuinely Telegram's, however the entity cut the text
GENUINE_CLAIM = re.compile(
    r"(?i)(?:^|[^\w.\-@])(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)(?![\w.\-@])"
    r"|tg:|[A-Za-z0-9_]\.t\.me(?![\w.\-@])"
)
TOKEN = re.compile(r"[A-Za-z0-9_-]+")

noise = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="./:@%", exclude_categories=("Cs",)),
    max_size=24,
)


@dataclass
class Example:
    """One hostile update and the ticket keys it may create."""

    update: dict[str, Any]
    allowed: set[str] = field(default_factory=set)
    chat_id: int | None = None
    message_id: int | None = None
    lookalike: bool = False  # a look-alike fragment is in the text
    new_group: int | None = None  # a foreign group the sandbox must know of first

    def may_create(self, link: str | None) -> bool:
        """Whether a ticket with this canonical link can have come from this update."""
        if link is None:
            return True  # a forward without a public link points at the report itself
        m = re.fullmatch(r"https://t\.me/(c/(\d+)|\+([\w-]+)|([A-Za-z0-9_]+)).*", link)
        if not m:
            return False
        key = (m.group(2) or m.group(3) or m.group(4) or "").lower()
        return key in self.allowed


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def surrogate_middles(text: str) -> set[int]:
    """UTF-16 offsets that fall between the two halves of a surrogate pair."""
    middles, at = set(), 0
    for char in text:
        at += 2 if ord(char) > 0xFFFF else 1
        if ord(char) > 0xFFFF:
            middles.add(at - 1)
    return middles


def utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    start, end = max(offset, 0) * 2, max(offset + length, 0) * 2
    return raw[start:end].decode("utf-16-le", errors="ignore")


@st.composite
def genuine_fragment(draw: st.DrawFn) -> tuple[str, set[str]]:
    user = draw(st.sampled_from(GENUINE))
    post = draw(st.integers(1, 10**6))
    internal = draw(st.integers(1, 10**12))
    invite = draw(st.from_regex(r"[A-Za-z0-9_-]{16,22}", fullmatch=True))
    forms = [
        (f"https://t.me/{user}/{post}", {user}),
        (f"t.me/{user}/{post}", {user}),
        (f"T.ME/{user}/{post}", {user}),
        (f"http://www.telegram.me/{user}/{post}?single", {user}),
        (f"https://telegram.dog/{user}/{post}#frag", {user}),
        (f"{user}.t.me", {user}),
        (f"t.me/s/{user}/{post}", {user}),
        (f"t.me/{user}/{post}?comment={post + 1}", {user}),
        (f"tg://resolve?domain={user}&post={post}", {user}),
        (f"t.me/c/{internal}/{post}", {str(internal)}),
        (f"tg://privatepost?channel={internal}&post={post}", {str(internal)}),
        (f"https://t.me/+{invite}", {invite}),
        (f"t.me/joinchat/{invite}", {invite}),
        (f"t.me/addstickers/{user}", set()),
        ("t.me/+6281100000001", set()),
        (f"({user}) https://t.me/{user}/{post}).", {user}),
        (f"https://t.me/{user}/Slots?startapp=x", {user}),
        (f"t.me/{user}?start=ref_{post}", {user}),
        (f"https://t%2Eme/{user}/{post}", {user}),
        (f"t.me:443/{user}/{post}/extra", {user}),
        (f"https://t.me:8443/{user}/{post}", set()),
    ]
    text, keys = draw(st.sampled_from(forms))
    return text, {k.lower() for k in keys}


@st.composite
def lookalike_fragment(draw: st.DrawFn) -> str:
    domain = draw(st.sampled_from(LOOKALIKE_DOMAINS))
    user = draw(st.sampled_from(LOOKALIKE_USERS))
    scheme = draw(st.sampled_from(("", "https://", "http://", "www.")))
    post = draw(st.integers(1, 10**6))
    tail = draw(st.sampled_from(("", f"/{post}", f"/s/{post}", f"/{post}?single")))
    return f"{scheme}{domain}/{user}{tail}"


@st.composite
def body(draw: st.DrawFn) -> tuple[str, set[str], bool]:
    """Text of a message: noise, specials, genuine and look-alike fragments."""
    parts: list[str] = []
    allowed: set[str] = set()
    lookalike = False
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(
            st.sampled_from(("noise", "special", "genuine", "genuine", "lookalike", "lookalike"))
        )
        if kind == "noise":
            parts.append(draw(noise))
        elif kind == "special":
            parts.append(draw(st.sampled_from(SPECIAL)))
        elif kind == "genuine":
            text, keys = draw(genuine_fragment())
            seps = ("", " ", "\n", "\u200b", "\u202e", "\u00a0")
            if re.match(r"\w+\.t\.me", text):
                # <name>.t.me: letters before it (noise, "!urgent") are part of the name
                seps = seps[1:]
            sep = draw(st.sampled_from(seps))
            # whitespace after it: a letter of noise would lengthen an invite hash
            parts.append(sep + text + draw(st.sampled_from((" ", "\n"))))
            allowed |= keys
        else:
            parts.append(" " + draw(lookalike_fragment()) + " ")
            lookalike = True
    text = "".join(parts)
    if draw(st.integers(0, 9)) == 9:  # over Telegram's 4096 characters
        filler = draw(st.sampled_from(("a", "😀", "\u202e", "x y ", "مرحبا ")))
        text = text + filler * (4100 // len(filler))
    return text, allowed, lookalike


@st.composite
def entities(draw: st.DrawFn, text: str) -> tuple[list[dict[str, Any]], set[str]]:
    """Random, broken and overlapping entities; the keys the URL-ish ones claim."""
    size = utf16_len(text)
    out: list[dict[str, Any]] = []
    claimed: set[str] = set()
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(ENTITY_TYPES))
        offset = draw(st.integers(-2, size + 3))
        length = draw(st.integers(-1, size + 3))
        entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link" and draw(st.booleans()):
            url = draw(
                st.one_of(
                    genuine_fragment().map(lambda f: f[0]),
                    lookalike_fragment(),
                    st.sampled_from(("", "javascript:alert(1)", "tg://user?id=1", "http://")),
                    noise,
                )
            )
            entity["url"] = url
        if kind == "text_mention" and draw(st.booleans()):
            entity["user"] = {
                "id": draw(st.sampled_from(USERS)),
                "is_bot": False,
                "first_name": "X",
            }
        if kind == "pre" and draw(st.booleans()):
            entity["language"] = draw(noise)
        out.append(entity)
        claims = [entity.get("url", "")] if kind == "text_link" else []
        if kind in ("url", "text_link"):
            claims.append(utf16_slice(text, offset, length))
        for claim in claims:
            if not isinstance(claim, str):
                continue
            claim = unquote(claim)  # a percent-escaped link means the same link
            if GENUINE_CLAIM.search(claim):
                claimed |= {t.lower() for t in TOKEN.findall(claim)}
    return out, claimed


def chat_json(chat_id: int) -> dict[str, Any]:
    if chat_id == CHAT:
        return {"id": CHAT, "type": "supergroup", "title": "Kominfo – Telegram liaison"}
    if chat_id == SUP_CHAT:
        return {"id": SUP_CHAT, "type": "supergroup", "title": "Liaison supervisors"}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "P"}
    return {"id": chat_id, "type": "group", "title": "Somewhere else"}


def user_json(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "username": f"u{user_id}"}


@st.composite
def origin(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """Every forward origin type, some with fields missing or of the wrong kind."""
    date = draw(st.integers(0, 2**31))
    kind = draw(st.sampled_from(("channel", "channel", "user", "hidden_user", "chat", "strange")))
    keys: set[str] = set()
    if kind == "channel":
        # Telegram fills the origin in: a real channel id and, if any, a valid username
        chat_id = draw(st.integers(-1_009_999_999_999_999, -1_000_000_000_001))
        chat: dict[str, Any] = {"id": chat_id, "type": "channel", "title": draw(noise)}
        if draw(st.booleans()):
            chat["username"] = draw(
                st.one_of(
                    st.sampled_from(GENUINE + LOOKALIKE_USERS),
                    # 5..31 characters, no "__", no trailing "_"
                    st.from_regex(r"[A-Za-z](?:_?[A-Za-z0-9]){4,15}", fullmatch=True),
                )
            )
            keys.add(str(chat["username"]).lower())
        keys.add(str(-chat_id - 1_000_000_000_000))
        data: dict[str, Any] = {
            "type": "channel",
            "chat": chat,
            "message_id": draw(st.integers(-5, 2**40)),
            "date": date,
        }
        if draw(st.booleans()):
            data["author_signature"] = draw(noise)
    elif kind == "user":
        data = {
            "type": "user",
            "sender_user": user_json(draw(st.sampled_from(USERS))),
            "date": date,
        }
    elif kind == "hidden_user":
        data = {"type": "hidden_user", "sender_user_name": draw(noise), "date": date}
    elif kind == "chat":
        data = {
            "type": "chat",
            "sender_chat": chat_json(draw(st.sampled_from((CHAT, FOREIGN)))),
            "date": date,
        }
    else:
        data = {"type": draw(st.sampled_from(("future_kind", "", "CHANNEL"))), "date": date}
    if draw(st.integers(0, 4)) == 4:  # a field Telegram always sends is missing
        data.pop(draw(st.sampled_from(sorted(data))), None)
    return data, keys


_ids = iter(range(1_000_000, 10**9))
# a fresh foreign group each time: the bot leaves one at once, and Telegram sends no more
# updates from a group the bot has left
_groups = iter(range(FOREIGN, FOREIGN - 10**9, -1))


@st.composite
def message_update(draw: st.DrawFn) -> Example:
    chat_id = draw(st.sampled_from((CHAT, CHAT, CHAT, CHAT, SUP_CHAT, FOREIGN, RINA, ANDI, EVE)))
    new_group = next(_groups) if chat_id == FOREIGN else None
    chat_id = new_group or chat_id
    user = chat_id if chat_id > 0 else draw(st.sampled_from(USERS))
    text, allowed, lookalike = draw(body())
    if draw(st.integers(0, 3)) == 3:
        command = draw(st.sampled_from(COMMANDS))
        mention = draw(st.sampled_from(("", "@liaison_sandbox_bot", "@other_bot")))
        args = draw(st.lists(st.one_of(st.integers(-5, 10**12).map(str), noise), max_size=4))
        text = f"/{command}{mention} " + " ".join(args) + " " + text
    message_id = next(_ids)
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": draw(st.integers(0, 2**31)),
        "chat": chat_json(chat_id),
        "from": user_json(user),
    }
    as_caption = draw(st.integers(0, 4)) == 4
    key, ekey = ("caption", "caption_entities") if as_caption else ("text", "entities")
    if as_caption:
        message["photo"] = [
            {"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}
        ]
    if text or draw(st.booleans()):
        message[key] = text
    found, claimed = draw(entities(text))
    if text.startswith("/"):
        found.insert(0, {"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])})
    if found and text:  # Telegram sends entities only with their text
        message[ekey] = found
    allowed |= claimed
    if draw(st.integers(0, 2)) == 2:
        data, keys = draw(origin())
        message["forward_origin"] = data
        allowed |= keys
    if draw(st.integers(0, 5)) == 5:
        data, keys = draw(origin())
        message["external_reply"] = {"origin": data}
        allowed |= keys
    if draw(st.integers(0, 5)) == 5:
        message["reply_to_message"] = {
            "message_id": draw(st.integers(1, 50)),
            "date": 0,
            "chat": chat_json(chat_id),
            "from": draw(
                st.sampled_from(
                    (
                        user_json(RINA),
                        {"id": 123456, "is_bot": True, "first_name": "Liaison Sandbox"},
                    )
                )
            ),
            "text": draw(noise),
        }
    if draw(st.integers(0, 9)) == 9:  # a field Telegram always sends is missing
        message.pop(draw(st.sampled_from(("from", "date", "chat", "message_id"))), None)
    kind = draw(
        st.sampled_from(("message", "message", "message", "edited_message", "channel_post"))
    )
    return Example(
        {kind: message},
        allowed,
        chat_id=chat_id if kind == "message" else None,
        message_id=message_id,
        lookalike=lookalike,
        new_group=new_group,
    )


@st.composite
def other_update(draw: st.DrawFn) -> Example:
    """Update types the bot does not act on, or that are not updates at all."""
    kind = draw(
        st.sampled_from(
            (
                "my_chat_member",
                "chat_member",
                "inline_query",
                "poll",
                "message_reaction",
                "future_update_type",
                "empty",
                "garbage",
            )
        )
    )
    if kind == "empty":
        return Example({})
    if kind == "garbage":
        value = draw(st.one_of(st.integers(), noise, st.lists(st.integers(), max_size=3)))
        return Example({"message": value})
    if kind in ("my_chat_member", "chat_member"):
        chat_id = draw(st.sampled_from((CHAT, SUP_CHAT, FOREIGN)))
        new_group = next(_groups) if chat_id == FOREIGN else None
        chat_id = new_group or chat_id
        status = draw(st.sampled_from(("member", "left", "kicked", "weird")))
        member = {"user": {"id": 123456, "is_bot": True, "first_name": "Bot"}, "status": status}
        if status == "kicked":
            member["until_date"] = 0
        change = {
            "chat": chat_json(chat_id),
            "from": user_json(draw(st.sampled_from(USERS))),
            "date": 0,
            "old_chat_member": {**member, "status": "left"},
            "new_chat_member": member,
        }
        return Example({kind: change}, new_group=new_group)
    if kind == "inline_query":
        return Example(
            {
                kind: {
                    "id": "1",
                    "from": user_json(EVE),
                    "query": draw(noise),
                    "offset": "",
                }
            }
        )
    if kind == "poll":
        return Example(
            {
                kind: {
                    "id": "p",
                    "question": draw(noise),
                    "options": [{"persistent_id": "0", "text": draw(noise), "voter_count": 1}],
                    "total_voter_count": 1,
                    "is_closed": False,
                    "is_anonymous": True,
                    "type": "regular",
                    "allows_multiple_answers": False,
                }
            }
        )
    if kind == "message_reaction":
        return Example(
            {
                kind: {
                    "chat": chat_json(CHAT),
                    "message_id": 1,
                    "date": 0,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                }
            }
        )
    return Example({kind: {"anything": draw(noise), "nested": {"deep": [1, 2, 3]}}})


@dataclass
class Press:
    """A button press on a bot message (data of any shape)."""

    data: str
    user: int


button = st.builds(
    Press,
    data=st.one_of(
        st.sampled_from(("ack:1", "done:1", "rej:1", "ackall", "ack:", "ack:-1", "done:1e5")),
        st.from_regex(r"(ack|done|rej):[0-9]{1,30}", fullmatch=True),
        noise.filter(lambda s: 0 < len(s.encode()) <= 64),
    ),
    user=st.sampled_from(USERS[:-1]),
)

hostile = st.one_of(message_update(), message_update(), message_update(), other_update(), button)
