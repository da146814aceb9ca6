"""Categories of reported content and their two windows (pure).

Every ticket has a category. A category's **agreed** window is the bilateral promise and
drives escalation; its **legal** window is the regulation's maximum and is reported apart.
`#urgent` shortens the agreed window to at most the urgent one, in any category.

The built-in table is SPEC's; a `LIAISON_POLICY` TOML file replaces it (`parse_policy`,
each refusal with its line). `category_of` reads a category tag from a report's text, or
from an order's caption.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.durations import parse_duration
from bot.domain.links import mask_links

__all__ = [
    "DEFAULT",
    "Categories",
    "Category",
    "PolicyError",
    "agreed_window",
    "builtin_categories",
    "category_of",
    "category_of_tags",
    "category_tags",
    "missing_keys",
    "parse_policy",
]

DEFAULT = "other"  # the key of the category of a ticket no tag names
H = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Category:
    """One category: stable key, names per language, tags (lower-case, no '#'), windows."""

    key: str
    names: Mapping[str, str]
    tags: tuple[str, ...]
    agreed: timedelta
    legal: timedelta

    def name(self, language: str) -> str:
        """The name in `language`, else the English one, else the key."""
        return self.names.get(language) or self.names.get("en") or self.key


@dataclass(frozen=True, slots=True)
class Categories:
    """The category table, in order; `default` is the key of untagged tickets."""

    items: tuple[Category, ...]
    default: str = DEFAULT

    def __post_init__(self) -> None:
        if self.default not in {c.key for c in self.items}:
            raise ValueError(f"the default category {self.default!r} is not in the table")

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key, in table order."""
        return tuple(c.key for c in self.items)

    def get(self, key: str) -> Category:
        """The category of `key`; an unknown key (a ticket of a replaced table) is the
        default category (start refuses a file that lacks a key in use)."""
        for c in self.items:
            if c.key == key:
                return c
        return self.get(self.default) if key != self.default else self.items[0]

    def find(self, word: str) -> Category | None:
        """The category a moderator names: its key or one of its tags ('#' optional,
        case-insensitive); None when nothing matches."""
        wanted = word.strip().lstrip("#").casefold()
        for c in self.items:
            if c.key.casefold() == wanted or wanted in c.tags:
                return c
        return None

    def by_tag(self, tag: str) -> Category | None:
        """The category that owns a tag (without '#', any case)."""
        wanted = tag.casefold()
        for c in self.items:
            if wanted in c.tags:
                return c
        return None


def builtin_categories(resolve: timedelta = 4 * H) -> Categories:
    """SPEC's table; `other` (the default) has the agreed window `resolve`
    (LIAISON_RESOLVE_DEADLINE)."""

    def cat(key: str, en: str, id_: str, tags: str, agreed: int, legal: int) -> Category:
        return Category(key, {"id": id_, "en": en}, tuple(tags.split()), agreed * H, legal * H)

    return Categories(
        (
            cat("terrorism", "Terrorism", "Terorisme", "terorisme teror terrorism", 1, 4),
            cat("csam", "Child sexual abuse", "Pornografi anak", "pornografianak csam", 1, 4),
            cat("public_order", "Public order", "Ketertiban umum", "hoaks sara provokasi", 4, 4),
            cat("gambling", "Online gambling", "Judi online", "judol judi gambling", 4, 4),
            cat(
                "illegal_products",
                "Illegal products",
                "Produk ilegal",
                "obat kosmetik makanan",
                4,
                4,
            ),
            cat("pornography", "Pornography", "Pornografi", "pornografi porn", 4, 24),
            cat(
                "illegal_finance",
                "Illegal finance",
                "Keuangan ilegal",
                "pinjol investasibodong",
                4,
                24,
            ),
            Category(DEFAULT, {"id": "Lainnya", "en": "Other"}, (), resolve, 24 * H),
        )
    )


# ---- tags in text ---------------------------------------------------------------------------

# a tag is '#word' not continuing another word, address or path (as `#urgent` in links.py)
_TAG = re.compile(r"(?<![\w@/\\=&%+~#-])#(\w+)(?![\w-])")


def category_tags(text: str) -> list[str]:
    """The '#tags' of a text outside any link, lower-cased, in order of appearance."""
    return [m.group(1).casefold() for m in _TAG.finditer(mask_links(text))]


def category_of(text: str, categories: Categories) -> Category | None:
    """The category a report's text (or an order's caption) names by tag, or None.

    Several category tags: the strictest category wins (the shortest legal window, then
    the shortest agreed one, then the earlier in the table), so a report tagged both
    `#judol` and `#terorisme` is terrorism. `#urgent` is no category tag.
    """
    return category_of_tags(category_tags(text), categories)


def category_of_tags(tags: Sequence[str], categories: Categories) -> Category | None:
    """`category_of` for tags already read (`category_tags`)."""
    found = {c.key: c for tag in tags if (c := categories.by_tag(tag))}
    if not found:
        return None
    order = {key: i for i, key in enumerate(categories.keys)}
    return min(found.values(), key=lambda c: (c.legal, c.agreed, order[c.key]))


def agreed_window(category: Category, urgent: bool, urgent_window: timedelta) -> timedelta:
    """A ticket's agreed window: its category's, or the shorter of that and the urgent
    window (LIAISON_URGENT_DEADLINE) when urgent."""
    return min(category.agreed, urgent_window) if urgent else category.agreed


# ---- the LIAISON_POLICY file ----------------------------------------------------------------


class PolicyError(ValueError):
    """A policy file that cannot be used, with the 1-based line of the problem when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        where = f"policy line {line}" if line is not None else "policy"
        super().__init__(f"{where}: {reason}")


_KEYS = ("key", "name", "tags", "agreed", "legal")
_TOP = ("category", "default")
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_TAG_WORD = re.compile(r"\w+\Z")
_HEADER = re.compile(r"\s*\[\[\s*category\s*\]\]")
_ASSIGN = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")
_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def parse_policy(text: str, resolve: timedelta = 4 * H) -> Categories:
    """Parse a LIAISON_POLICY TOML text into a category table; PolicyError gives the line
    and the reason (invalid TOML, unknown field, missing field, bad key, duplicate key or
    tag, bad duration, a default that is not in the table). A category may leave out
    `agreed` only when it is the default: then it is `resolve`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = _POSITION.search(message)
        if found is None:
            line = None
        else:
            line = int(found.group(1)) if found.group(1) else len(text.split("\n"))
        reason = message[: found.start()] if found else message
        raise PolicyError(f"invalid TOML: {reason}", line) from None
    lines = text.split("\n")
    blocks = _blocks(lines)
    for key in data:
        if key not in _TOP:
            raise PolicyError(
                f"unknown field {key!r} (expected [[category]] and default)", _top(lines, key)
            )
    entries = data.get("category")
    if not isinstance(entries, list) or not entries:
        raise PolicyError("no [[category]] in the file")
    default = data.get("default", DEFAULT)
    if not isinstance(default, str):
        raise PolicyError("default must be a category key in quotes", _top(lines, "default"))
    items: list[Category] = []
    key_lines: dict[str, int | None] = {}
    tag_lines: dict[str, tuple[str, int | None]] = {}
    for number, entry in enumerate(entries):
        block = blocks[number] if number < len(blocks) else {}
        header = block.get("", None)
        category = _category(entry, block, header, default, resolve)
        line = block.get("key", header)
        if category.key in key_lines:
            raise PolicyError(
                f"category {category.key!r} is listed twice{_first(key_lines[category.key])}",
                line,
            )
        key_lines[category.key] = line
        for tag in category.tags:
            if tag in tag_lines:
                owner, first = tag_lines[tag]
                raise PolicyError(
                    f"tag {tag!r} is used twice (also by {owner!r}{_on(first)})",
                    block.get("tags", header),
                )
            tag_lines[tag] = (category.key, block.get("tags", header))
        items.append(category)
    if default not in key_lines:
        raise PolicyError(
            f"the default category {default!r} is not listed", _top(lines, "default")
        )
    return Categories(tuple(items), default)


def _category(
    entry: object,
    block: Mapping[str, int],
    header: int | None,
    default: str,
    resolve: timedelta,
) -> Category:
    if not isinstance(entry, dict):  # pragma: no cover - tomllib gives tables in an array
        raise PolicyError("write each category as a [[category]] table", header)
    for name in entry:
        if name not in _KEYS:
            raise PolicyError(
                f"unknown field {name!r} (expected {', '.join(_KEYS)})", block.get(name, header)
            )
    key = entry.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise PolicyError(
            "key must be lower-case letters, digits and '_' in quotes", block.get("key", header)
        )
    names = entry.get("name", {})
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
    ):
        raise PolicyError('name must be like { id = "…", en = "…" }', block.get("name", header))
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise PolicyError('tags must be a list like ["judol", "judi"]', block.get("tags", header))
    clean: list[str] = []
    for tag in tags:
        word = tag.strip().removeprefix("#").casefold()
        if not _TAG_WORD.match(word) or word == "urgent":
            raise PolicyError(f"tag {tag!r} is not a usable tag", block.get("tags", header))
        if word in clean:
            raise PolicyError(f"tag {word!r} is used twice in {key!r}", block.get("tags", header))
        clean.append(word)
    agreed = _window(entry, "agreed", block, header, resolve if key == default else None)
    legal = _window(entry, "legal", block, header, None)
    return Category(key, dict(names), tuple(clean), agreed, legal)


def _window(
    entry: Mapping[str, object],
    name: str,
    block: Mapping[str, int],
    header: int | None,
    fallback: timedelta | None,
) -> timedelta:
    value = entry.get(name)
    line = block.get(name, header)
    if value is None:
        if fallback is not None:
            return fallback
        raise PolicyError(f'{name} is missing (a duration such as "4h")', header)
    if not isinstance(value, str):
        raise PolicyError(f'{name} must be a duration in quotes, such as "4h"', line)
    try:
        return parse_duration(value)
    except ValueError as error:
        raise PolicyError(f"{name}: {error}", line) from None


def _blocks(lines: Sequence[str]) -> list[dict[str, int]]:
    """Per [[category]], the 1-based line of its header ('') and of each field."""
    blocks: list[dict[str, int]] = []
    current: dict[str, int] | None = None
    for number, line in enumerate(lines, start=1):
        if _HEADER.match(line):
            current = {"": number}
            blocks.append(current)
        elif line.lstrip().startswith("["):
            current = None
        elif current is not None and (m := _ASSIGN.match(line)):
            current.setdefault(m.group(1), number)
    return blocks


def _top(lines: Sequence[str], key: str) -> int | None:
    """The line of a top-level `key = …` (before any table), or of a `[key]` header."""
    top = True
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            top = False
            if stripped.strip("[]").strip() == key:
                return number
        elif top and (m := _ASSIGN.match(line)) and m.group(1) == key:
            return number
    return None


def _first(line: int | None) -> str:
    return f" (first on line {line})" if line is not None else ""


def _on(line: int | None) -> str:
    return f" on line {line}" if line is not None else ""


def missing_keys(categories: Categories, in_use: Sequence[str]) -> list[str]:
    """The category keys tickets of the database use that the table lacks (sorted)."""
    have = set(categories.keys)
    return sorted({key for key in in_use if key not in have})
