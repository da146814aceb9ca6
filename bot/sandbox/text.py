"""Message text as Telegram sees it: UTF-16 offsets, detected entities, HTML parse mode."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.sandbox.faults import ApiError, _bad
from bot.sandbox.records import JSON


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


_TLDS = (
    "com|org|net|me|io|ru|id|co|uk|de|info|dog|app|dev|ly|gl|be|tv|to|xyz|site|online|ua|fr"
    "|edu|gov|in|cc|us|eu|biz|pro|ai|ir|su|ton"
)
_URL_RE = re.compile(
    r"(?<![\w@/.-])(?:"
    r"(?:https?|tg)://[^\s<>\"]+"
    rf"|(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])"
    r"(?::\d{1,5})?(?:[/?#][^\s<>\"]*)?"
    r")",
    re.IGNORECASE,
)
_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@])")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
_URL_TRAILING = ".,;:!?'\""


def _trim_url(url: str) -> str:
    while url:
        if url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


def detect_entities(text: str) -> list[JSON]:
    """Entities Telegram marks by itself: url, bot_command, mention, hashtag (UTF-16 offsets)."""
    spans: list[tuple[int, int, str]] = []
    for m in _URL_RE.finditer(text):
        url = _trim_url(m.group())
        if url:
            spans.append((m.start(), m.start() + len(url), "url"))

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for kind, pattern in (
        ("bot_command", _COMMAND_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
    ):
        for m in pattern.finditer(text):
            if kind == "hashtag" and m.group()[1:].isdigit():
                continue  # "#12" is a number, not a hashtag
            if free(m.start(), m.end()):
                spans.append((m.start(), m.end(), kind))
    spans.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in spans
    ]


def _overlaps(entity: JSON, others: Iterable[JSON]) -> bool:
    start, end = entity["offset"], entity["offset"] + entity["length"]
    return any(
        start < o["offset"] + o["length"] and o["offset"] < end
        for o in others
        if o["type"] not in ("bold", "italic", "underline", "strikethrough", "spoiler")
    )


def _sort_entities(entities: list[JSON]) -> list[JSON]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_ENTITY_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHAR_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output
    language: str | None = None


def _decode_ref(src: str, i: int) -> tuple[str, int] | None:
    m = _CHAR_REF.match(src, i)
    if not m:
        return None
    if m.group(3) is not None:
        char = _NAMED_CHAR_REFS.get(m.group(3))
        return (char, m.end()) if char else None
    code = int(m.group(1)) if m.group(1) is not None else int(m.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def _decode_text(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ref = _decode_ref(value, i) if value[i] == "&" else None
        if ref:
            out.append(ref[0])
            i = ref[1]
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_html(src: str, users: dict[int, JSON] | None = None) -> tuple[str, list[JSON]]:
    """Telegram's HTML parse mode: plain text and entities, or ApiError like Telegram's."""
    out: list[str] = []
    pos = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i, n = 0, len(src)

    def fail(reason: str) -> ApiError:
        return _bad(f"can't parse entities: {reason}")

    def offset(at: int) -> int:
        return len(src[:at].encode("utf-8"))

    while i < n:
        c = src[i]
        if c == "&" and (ref := _decode_ref(src, i)):
            out.append(ref[0])
            pos += utf16_len(ref[0])
            i = ref[1]
            continue
        if c != "<":
            out.append(c)
            pos += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        if src.startswith("</", i):
            end = src.find(">", i)
            if end == -1:
                raise fail(f"Unclosed end tag at byte offset {offset(i)}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {offset(i)}")
            tag = stack.pop()
            if name != tag.name:
                raise fail(
                    f'Unmatched end tag at byte offset {offset(i)}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            _close_tag(tag, pos, stack, entities, users or {})
            i = end + 1
            continue
        j = i + 1
        while j < n and not src[j].isspace() and src[j] not in ">/":
            j += 1
        name = src[i + 1 : j].lower()
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {offset(i)}")
        if name not in _HTML_ENTITY_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {offset(i)}')
        attrs, j = _parse_attributes(src, j, i)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset(i)}')
        stack.append(_OpenTag(name, attrs, pos))
        i = j
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return "".join(out), _sort_entities(entities)


def _parse_attributes(src: str, j: int, tag_at: int) -> tuple[dict[str, str], int]:
    """Attributes from ``src[j:]`` up to the closing ``>`` of the tag starting at ``tag_at``."""
    attrs: dict[str, str] = {}
    n = len(src)

    def unclosed() -> ApiError:
        offset = len(src[:tag_at].encode("utf-8"))
        return _bad(f"can't parse entities: Unclosed start tag at byte offset {offset}")

    while True:
        while j < n and src[j].isspace():
            j += 1
        if j >= n:
            raise unclosed()
        if src[j] == ">":
            return attrs, j + 1
        if src.startswith("/>", j):
            return attrs, j + 2
        k = j
        while k < n and not src[k].isspace() and src[k] not in "=>":
            k += 1
        attr = src[j:k].lower()
        j = k
        while j < n and src[j].isspace():
            j += 1
        value = ""
        if j < n and src[j] == "=":
            j += 1
            while j < n and src[j].isspace():
                j += 1
            if j < n and src[j] in "\"'":
                close = src.find(src[j], j + 1)
                if close == -1:
                    raise unclosed()
                value = src[j + 1 : close]
                j = close + 1
            else:
                k = j
                while k < n and not src[k].isspace() and src[k] != ">":
                    k += 1
                value = src[j:k]
                j = k
        if attr:
            attrs[attr] = _decode_text(value)


def _close_tag(
    tag: _OpenTag, pos: int, stack: list[_OpenTag], entities: list[JSON], users: dict[int, JSON]
) -> None:
    length = pos - tag.start
    inside_pre = bool(stack) and stack[-1].name == "pre"
    if tag.name == "code" and inside_pre:
        cls = tag.attrs.get("class", "")
        if cls.startswith("language-"):
            stack[-1].language = cls.removeprefix("language-")
        return  # <pre><code> is one pre entity
    if length <= 0:
        return  # Telegram drops empty entities
    entity: JSON = {"type": _HTML_ENTITY_TAGS[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        mention = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if mention:
            user = users.get(int(mention.group(1)))
            if user is None:
                return  # Telegram drops mentions of users it cannot resolve
            entity = {**entity, "type": "text_mention", "user": user}
        elif not href:
            return
        else:
            entity["url"] = href
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    entities.append(entity)


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims surrounding whitespace; entities follow the text."""
    left = len(text) - len(text.lstrip())
    stripped = text.strip()
    shift, total = utf16_len(text[:left]), utf16_len(stripped)
    kept = []
    for e in entities:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, total)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept
