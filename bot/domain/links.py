"""Recognise Telegram links in reports and normalise them to one canonical form.

One piece of content is one ticket however it is written, so every accepted spelling
(hosts, schemes, ports 80/443, percent-escapes, `tg://` forms, topics, `?single`, bot and
chat actions such as `?start=`, extra path after a post, ...) collapses to one `Link.key`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote

__all__ = [
    "Link",
    "LinkKind",
    "channel_post_link",
    "extract_links",
    "has_foreign_url",
    "is_urgent",
    "mask_links",
    "normalise_link",
]


class LinkKind(StrEnum):
    """What a canonical link points at."""

    POST = "post"
    COMMENT = "comment"
    PRIVATE_POST = "private_post"
    CHANNEL = "channel"
    STORY = "story"
    INVITE = "invite"
    MINI_APP = "mini_app"  # t.me/<bot>/<app>: a direct-link mini app (gambling ones are targets)
    FOLDER = "folder"  # t.me/addlist/<slug>: a shared folder of chats


@dataclass(frozen=True, slots=True)
class Link:
    """A reportable Telegram link in canonical form."""

    canonical: str  # display form, the username as written
    key: str  # dedup key: canonical, username and app name lower-cased (invite hash keeps case)
    kind: LinkKind
    channel: str | None  # roll-up key: lower-cased username (a mini app: its bot's) or
    # "c/<internal>"; None for invites


_BASE = "https://t.me/"
_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
_DEFAULT_PORTS = frozenset({80, 443})  # an explicit default port is the same link
_MAX_ID_DIGITS = 15  # a private channel's internal id
_MAX_MESSAGE_ID = 2**31 - 1  # post, story and comment ids are 32-bit signed in the Bot API
_MAX_HASH_LEN = 64
_PRIVATE_OFFSET = 1_000_000_000_000  # private chat ids are -100<internal>

# First path segments that Telegram reserves: never a username, mostly not content.
_RESERVED = frozenset(
    {
        "s",
        "c",
        "m",
        "iv",
        "bg",
        "joinchat",
        "addstickers",
        "addemoji",
        "addtheme",
        "addlist",
        "share",
        "proxy",
        "socks",
        "setlanguage",
        "confirmphone",
        "login",
        "invoice",
        "boost",
        "giftcode",
        "contact",
        "msg",
        "msg_url",
        "premium",
        "settings",
        "privacy",
        "nft",
        "addstyle",
        "auction",
        "newbot",
        "call",
        "stars",
        "telegrampassport",
    }
)

# 5..32 of [A-Za-z0-9_], a letter first, no trailing "_" and no "__"
# 4-32 characters (4: collectible usernames bought on Fragment), a letter first, no `__`,
# not ending in `_`
_USERNAME = re.compile(r"(?!.*__)[A-Za-z][A-Za-z0-9_]{2,30}[A-Za-z0-9]")
# a mini app's short name: a post id is digits, an app name starts with a letter
_APP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,63}")
_DIGITS = re.compile(r"[0-9]+")
_INVITE_HASH = re.compile(r"[A-Za-z0-9_-]+")
_SCHEME = re.compile(r"(?:(?P<web>https?)://|(?P<tg>tg):(?://)?)", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_ANY_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+-]*):(?![0-9])")  # not host:port

# Prose around a link: wrappers before it, sentence punctuation after it.
_LEADING = "<([{\"'«“‘"
_TRAILING = ".,!?:;'\"*)]}>»”’…"

# A link in raw text may not continue another word, domain, path, address or query.
_BOUNDARY = r"(?<![\w.@/\\=&?#%+~-])"
_LINK_CHARS = r"[A-Za-z0-9_.~%+=&?#/-]"
_DOT = r"(?:\.|%2e)"  # a dot, or its percent-escape
_CANDIDATE = re.compile(
    _BOUNDARY + r"(?:"
    r"(?:https?://)?(?:www" + _DOT + r")?"
    r"(?:(?:[a-z0-9_]+" + _DOT + r")?t" + _DOT + r"me|telegram" + _DOT + r"(?:me|dog))"
    r"(?![\w@-]|\.\w)"  # not t.me.evil.com, t.me@evil.com, t.me-x
    r"(?::[0-9]+)?"  # a port: only 80 and 443 make a link, see _from_web
    r"(?:(?:[/?#]|%2f|%3f)" + _LINK_CHARS + r"*)?"
    r"|tg:(?://)?[a-z]+\?" + _LINK_CHARS + r"*"
    r")",
    re.IGNORECASE,
)

# Anything URL-like: scheme, www., or a bare domain (path or a common TLD required).
_URLISH = re.compile(
    r"(?<![\w.@/\\-])(?:"
    r"https?://[^\s<>\"'`]+"
    r"|www\.[^\s<>\"'`]+"
    r"|(?:[a-z0-9][a-z0-9-]*\.)+(?P<tld>[a-z]{2,24})(?![\w-])"
    r"(?P<port>:[0-9]+)?(?P<path>/[^\s<>\"'`]*)?"
    r")",
    re.IGNORECASE,
)
_COMMON_TLDS = frozenset(
    {
        *("com", "net", "org", "info", "biz", "io", "co", "id", "me", "ru", "uk", "us", "eu"),
        *("de", "fr", "nl", "it", "es", "pl", "ua", "kz", "in", "cn", "jp", "sg", "my", "au"),
        *("ca", "br", "vn", "ph", "th", "tr", "ir", "su", "to", "ws", "la", "tk", "ml", "ga"),
        *("cf", "gq", "cc", "tv", "ly", "gl", "gg", "be", "app", "dev", "xyz", "site"),
        *("online", "top", "link", "live", "news", "blog", "page", "shop", "store", "club"),
    }
)

_URGENT = re.compile(r"(?<![\w@/\\=&%+~-])[#!]urgent(?![\w-])", re.IGNORECASE)


def normalise_link(raw: str) -> Link | None:
    """Return the canonical Link for one candidate string, or None if it is not content."""
    text = _unescape(raw.strip().lstrip(_LEADING).rstrip(_TRAILING))
    if not text or any(ch.isspace() for ch in text):
        return None
    scheme = _SCHEME.match(text)
    if scheme is not None and scheme.group("tg"):
        return _from_tg(text[scheme.end() :])
    if scheme is not None:
        text = text[scheme.end() :]
    elif _OTHER_SCHEME.match(text):
        return None
    return _from_web(text)


def extract_links(text: str, entity_urls: Sequence[str] = ()) -> list[Link]:
    """Return the Telegram links of a message, entity urls first, unique by key."""
    found: dict[str, Link] = {}
    candidates = [*entity_urls, *(m.group() for m in _CANDIDATE.finditer(text))]
    for candidate in candidates:
        link = normalise_link(candidate)
        if link is not None and link.key not in found:
            found[link.key] = link
    return list(found.values())


def has_foreign_url(text: str, entity_urls: Sequence[str] = ()) -> bool:
    """Tell whether the message holds a URL that is not a Telegram link."""
    if any(_is_foreign_url(url) for url in entity_urls):
        return True
    for match in _URLISH.finditer(text):
        tld = match.group("tld")
        if tld and not match.group("path") and tld.lower() not in _COMMON_TLDS:
            continue  # "Mr.Smith", "selesai.Terima": words, not a domain
        if not _is_telegram_authority(*_authority_of(match.group())):
            return True
    return False


def channel_post_link(username: str | None, chat_id: int, message_id: int) -> Link:
    """Return the link of a forwarded channel post, public by username or private by chat id."""
    if message_id <= 0:
        raise ValueError(f"message id must be positive, got {message_id}")
    name = (username or "").lstrip("@")
    if name:
        return _public(name, f"/{message_id}", LinkKind.POST)
    internal = -chat_id - _PRIVATE_OFFSET
    if internal <= 0:
        raise ValueError(f"chat {chat_id} is not a channel or supergroup: it has no post links")
    return _private(internal, message_id, None)


def mask_links(text: str) -> str:
    """The text with every link (Telegram or not) blanked out, offsets kept: what a tag
    inside a link (`t.me/x#judol`) must not be read from."""
    masked = text
    for pattern in (_CANDIDATE, _URLISH):
        masked = pattern.sub(lambda m: " " * len(m.group()), masked)
    return masked


def is_urgent(text: str) -> bool:
    """Tell whether the text carries #urgent or !urgent as a word, outside any link."""
    return _URGENT.search(mask_links(text)) is not None


def _from_web(rest: str) -> Link | None:
    rest = rest.split("#", 1)[0]
    location, _, query = rest.partition("?")
    authority, _, path = location.partition("/")
    if "@" in authority:
        return None
    host, _, port = authority.partition(":")
    if port and not (_DIGITS.fullmatch(port) and int(port) in _DEFAULT_PORTS):
        return None  # another port is another server, not Telegram's
    host = host.rstrip(".")
    if host.lower().startswith("www."):
        host = host[4:]
    segments = [segment for segment in path.split("/") if segment]
    lowered = host.lower()
    if lowered.endswith(".t.me"):
        subdomain = host[: -len(".t.me")]
        if not _is_username(subdomain):
            return None
        segments.insert(0, subdomain)
    elif lowered not in _HOSTS:
        return None
    return _from_path(segments, _parse_query(query))


def _from_path(segments: list[str], params: dict[str, str]) -> Link | None:
    if not segments:
        return None
    head = segments[0]
    if head.startswith("+"):
        return _invite(head[1:]) if len(segments) == 1 else None
    lowered = head.lower()
    if lowered == "joinchat":
        return _invite(segments[1]) if len(segments) == 2 else None
    if lowered == "boost":  # t.me/boost/<u>: boosting a chat points at the chat itself
        return _chat(segments[1]) if len(segments) == 2 else None
    if lowered == "addlist":  # a shared folder of chats
        return _folder(segments[1]) if len(segments) == 2 else None
    if lowered == "c":
        return _from_private_path(segments[1:], params)
    if lowered == "s":
        segments = segments[1:]  # t.me/s/<u>/<id> is the web preview of the same post
        if not segments:
            return None
    return _from_public_path(segments, params)


def _from_public_path(segments: list[str], params: dict[str, str]) -> Link | None:
    user, rest = segments[0], segments[1:]
    if not _is_username(user):
        return None
    if not rest:
        # ?start=, ?startgroup, ?startapp, ?game, ?voicechat, ?boost, ...: the chat itself
        return _public(user, "", LinkKind.CHANNEL)
    if rest[0].lower() == "s":
        story = _id(rest[1]) if len(rest) == 2 else None
        return None if story is None else _public(user, f"/s/{story}", LinkKind.STORY)
    if len(rest) == 1 and _APP_NAME.fullmatch(rest[0]):
        return _mini_app(user, rest[0])
    return _post(user, _post_id(rest), params)


def _post_id(rest: list[str]) -> int | None:
    """The post of `<id>` or `<thread>/<id>`, however much non-numeric path follows it."""
    first = _id(rest[0])
    if first is None or len(rest) == 1:
        return first
    if not _DIGITS.fullmatch(rest[1]):
        return first  # <id>/junk/...: the post
    if len(rest) > 2 and _DIGITS.fullmatch(rest[2]):
        return None  # three numbers: no reading is sure
    return _id(rest[1])  # forum topic: the last number is the post


def _from_private_path(segments: list[str], params: dict[str, str]) -> Link | None:
    if len(segments) < 2:
        return None
    internal, post = _channel_id(segments[0]), _post_id(segments[1:])
    if internal is None or post is None:
        return None
    return _private(internal, post, _id(params.get("comment", "")))


def _from_tg(rest: str) -> Link | None:
    action, _, query = rest.split("#", 1)[0].partition("?")
    params = _parse_query(query)
    action = action.rstrip("/").lower()
    if action == "resolve":
        user = params.get("domain", "")
        if "phone" in params or not _is_username(user):
            return None
        if "post" in params:
            return _post(user, _id(params["post"]), params)
        if "appname" in params:
            app = params["appname"]
            return _mini_app(user, app) if _APP_NAME.fullmatch(app) else None
        if "story" in params:
            story = _id(params["story"])
            return None if story is None else _public(user, f"/s/{story}", LinkKind.STORY)
        return _public(user, "", LinkKind.CHANNEL)
    if action == "privatepost":
        internal, post = _channel_id(params.get("channel", "")), _id(params.get("post", ""))
        if internal is None or post is None:
            return None
        return _private(internal, post, _id(params.get("comment", "")))
    if action == "join":
        return _invite(params.get("invite", ""))
    if action == "boost":
        return _chat(params.get("domain", ""))
    if action == "addlist":
        return _folder(params.get("slug", ""))
    return None


def _chat(user: str) -> Link | None:
    return _public(user, "", LinkKind.CHANNEL) if _is_username(user) else None


def _folder(slug: str) -> Link | None:
    # the slug is case-sensitive, like an invite hash
    if not _INVITE_HASH.fullmatch(slug) or len(slug) > _MAX_HASH_LEN:
        return None
    canonical = f"{_BASE}addlist/{slug}"
    return Link(canonical=canonical, key=canonical, kind=LinkKind.FOLDER, channel=None)


def _post(user: str, post: int | None, params: dict[str, str]) -> Link | None:
    if post is None:
        return None
    comment = _id(params.get("comment", ""))
    if comment is None:
        return _public(user, f"/{post}", LinkKind.POST)
    return _public(user, f"/{post}?comment={comment}", LinkKind.COMMENT)


def _mini_app(bot: str, app: str) -> Link:
    # app short names compare like usernames: case-insensitively, as written for display
    return Link(
        canonical=f"{_BASE}{bot}/{app}",
        key=f"{_BASE}{bot.lower()}/{app.lower()}",
        kind=LinkKind.MINI_APP,
        channel=bot.lower(),
    )


def _public(user: str, suffix: str, kind: LinkKind) -> Link:
    return Link(
        canonical=f"{_BASE}{user}{suffix}",
        key=f"{_BASE}{user.lower()}{suffix}",
        kind=kind,
        channel=user.lower(),
    )


def _private(internal: int, post: int, comment: int | None) -> Link:
    suffix = "" if comment is None else f"?comment={comment}"
    canonical = f"{_BASE}c/{internal}/{post}{suffix}"
    return Link(canonical, canonical, LinkKind.PRIVATE_POST, f"c/{internal}")


def _invite(invite_hash: str) -> Link | None:
    # An all-digit "hash" after + is a phone number link, not a chat.
    if (
        not _INVITE_HASH.fullmatch(invite_hash)
        or invite_hash.isdigit()
        or len(invite_hash) > _MAX_HASH_LEN
    ):
        return None
    canonical = f"{_BASE}+{invite_hash}"
    return Link(canonical, canonical, LinkKind.INVITE, None)


def _is_username(name: str) -> bool:
    return _USERNAME.fullmatch(name) is not None and name.lower() not in _RESERVED


def _id(text: str, limit: int = _MAX_MESSAGE_ID) -> int | None:
    """A positive id written in digits, at most `limit` (beyond it: not an id at all)."""
    if not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0")
    if not significant or len(significant) > _MAX_ID_DIGITS or int(significant) > limit:
        return None
    return int(significant)


def _channel_id(text: str) -> int | None:
    """A private channel's internal id (`-100<internal>` as a chat id: chat ids have at
    most 52 significant bits)."""
    return _id(text, 2**52 - 1)


def _parse_query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            params.setdefault(name.lower(), value)
    return params


def _unescape(text: str) -> str:
    """Percent-escapes (`%2e`, `%31`) mean the characters they stand for; the decoded text
    is then parsed like any other (a `%20` makes a space, so no link)."""
    if "%" not in text:
        return text
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return " "  # not UTF-8 once decoded: no link


def _authority_of(url: str) -> tuple[str, str]:
    url = _unescape(url)
    rest = url[m.end() :] if (m := _OTHER_SCHEME.match(url)) else url
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    host, _, port = authority.partition(":")
    host = host.rstrip(".").lower()
    return (host[4:] if host.startswith("www.") else host), port


def _is_telegram_authority(host: str, port: str) -> bool:
    if port and not (_DIGITS.fullmatch(port) and int(port) in _DEFAULT_PORTS):
        return False  # t.me:8443 is some other server
    return host in _HOSTS or host == "telegram.org" or host.endswith((".t.me", ".telegram.org"))


def _is_foreign_url(url: str) -> bool:
    url = url.strip()
    scheme = _ANY_SCHEME.match(url)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https"):
        return False  # tg:, mailto: and the like point at no web page
    host, port = _authority_of(url)
    return "." in host and not _is_telegram_authority(host, port)
