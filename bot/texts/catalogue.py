"""The message catalogues: one gettext catalogue per language under bot/locale.

The `.po` files are the only form kept (in git and in the wheel): at start each is read
with Babel, checked against the template `liaison.pot` and compiled in memory into a
`gettext.GNUTranslations`. There is no build step that could leave a stale `.mo` behind,
an edited `.po` takes effect at the next start, and a broken catalogue stops the bot at
start rather than showing a raw key in the chat.

Msgids are stable keys (`acked`, `new_tickets`), not English sentences, so every language,
English included, is a full translation and an English wording can change without
touching the other catalogues. The template states what each `{placeholder}` holds in an
extracted comment (`#. {ref}: …`); every translation must use exactly those placeholders.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from gettext import GNUTranslations, c2py
from importlib.resources import files
from importlib.resources.abc import Traversable

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

DOMAIN = "liaison"
LANGUAGES = ("id", "en")
PLACEHOLDER_COMMENT = re.compile(r"^\{(\w+)\}:")

Key = tuple[str | None, str]  # (msgctxt, msgid)


class CatalogueError(Exception):
    """A catalogue the bot cannot speak from (missing, unparsable or incomplete)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of the template: its key, whether it has plural forms, its placeholders."""

    context: str | None
    key: str
    plural: bool
    placeholders: frozenset[str]


def locale_dir() -> Traversable:
    """Where the catalogues are installed (package data of `bot`)."""
    return files("bot") / "locale"


def template_path() -> Traversable:
    """The template: every msgid, with comments saying what its placeholders hold."""
    return locale_dir() / f"{DOMAIN}.pot"


def catalogue_path(lang: str) -> Traversable:
    """The catalogue of one language."""
    return locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def placeholders(text: str) -> frozenset[str]:
    """The `{names}` a str.format template uses."""
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError as exc:  # a lone { or }
        raise CatalogueError(f"not a format string ({exc}): {text!r}") from exc


def read(path: Traversable, lang: str | None = None) -> Catalog:
    """Parse a `.po`/`.pot` file; a syntax error is a CatalogueError naming the file.

    The language comes from the file's own `Language` header, so that it can be checked.
    """
    try:
        with path.open("rb") as f:
            return read_po(f, domain=DOMAIN, ignore_obsolete=True, abort_invalid=True)
    except (OSError, PoFileError) as exc:
        raise CatalogueError(f"{path.name} ({lang or 'template'}): {exc}") from exc


def _messages(catalog: Catalog) -> Iterable[Message]:
    return (m for m in catalog if m.id)  # the "" entry is the header


def _key(message: Message) -> Key:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def template_entries(template: Catalog) -> dict[Key, Entry]:
    """The template's messages by (context, key), in file order."""
    entries: dict[Key, Entry] = {}
    for m in _messages(template):
        names = {
            match.group(1)
            for comment in m.auto_comments
            if (match := PLACEHOLDER_COMMENT.match(comment))
        }
        context, key = _key(m)
        entries[context, key] = Entry(context, key, m.pluralizable, frozenset(names))
    return entries


def _forms(message: Message) -> list[str]:
    s = message.string
    if s is None or isinstance(s, str):
        return [s or ""]
    return [f or "" for f in s]


def _name(context: str | None, key: str) -> str:
    return f"{context}|{key}" if context else key


def problems(catalog: Catalog, entries: Mapping[Key, Entry], lang: str) -> list[str]:
    """Everything that keeps `catalog` from being a full translation of the template."""
    found: list[str] = []
    if str(catalog.locale) != lang:
        found.append(f"Language header is {catalog.locale!s}, expected {lang}")
    nplurals, expr = get_plural(lang)
    if catalog.num_plurals != nplurals:
        found.append(f"Plural-Forms has nplurals={catalog.num_plurals}, {lang} has {nplurals}")
    else:
        ours, cldr = c2py(catalog.plural_expr), c2py(expr)
        if any(ours(n) != cldr(n) for n in range(1000)):
            found.append(f"Plural-Forms plural={catalog.plural_expr} is not {lang}'s {expr}")
    seen: set[Key] = set()
    for m in _messages(catalog):
        k = _key(m)
        name = _name(*k)
        seen.add(k)
        entry = entries.get(k)
        if entry is None:
            found.append(f"{name}: not in the template")
            continue
        if m.pluralizable != entry.plural:
            found.append(f"{name}: plural forms {'given' if m.pluralizable else 'missing'}")
            continue
        forms = _forms(m)
        if entry.plural and len(forms) != nplurals:
            found.append(f"{name}: {len(forms)} plural forms, {lang} has {nplurals}")
        if m.fuzzy:
            found.append(f"{name}: marked fuzzy")
        for form in forms:
            if not form:
                found.append(f"{name}: not translated")
                continue
            try:
                names = placeholders(form)
            except CatalogueError as exc:
                found.append(f"{name}: {exc}")
                continue
            if names != entry.placeholders:
                want = ", ".join(sorted(entry.placeholders)) or "none"
                found.append(f"{name}: placeholders {sorted(names)}, the template has {want}")
    found.extend(f"{_name(*k)}: missing" for k in entries if k not in seen)
    return found


def compile_catalog(catalog: Catalog) -> GNUTranslations:
    """The catalogue as gettext reads it (a `.mo` built in memory)."""
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return GNUTranslations(buf)


class Catalogue:
    """One language's messages. A key it does not have is an error, never a fallback."""

    def __init__(self, lang: str, translations: GNUTranslations, entries: Mapping[Key, Entry]):
        self.lang = lang
        self.locale = Locale.parse(lang)
        self._gettext = translations
        self._entries = dict(entries)

    def _entry(self, context: str | None, key: str) -> Entry:
        entry = self._entries.get((context, key))
        if entry is None:
            raise KeyError(f"no message {_name(context, key)!r} in the {self.lang} catalogue")
        return entry

    def is_plural(self, key: str) -> bool:
        """True for a message with plural forms (picked by a count)."""
        return self._entry(None, key).plural

    def text(self, key: str) -> str:
        """A message without plural forms."""
        if self._entry(None, key).plural:
            raise KeyError(f"{key!r} has plural forms: give it a count")
        return self._gettext.gettext(key)

    def plural(self, key: str, n: int) -> str:
        """The form of a plural message for the count `n`."""
        if not self._entry(None, key).plural:
            raise KeyError(f"{key!r} has no plural forms")
        return self._gettext.ngettext(key, key, n)

    def particular(self, context: str, key: str) -> str:
        """A message within a context (`help`, `usage`)."""
        self._entry(context, key)
        return self._gettext.pgettext(context, key)

    def keys(self, context: str | None = None) -> list[str]:
        """The keys of one context (None: the plain messages), in template order."""
        return [k for c, k in self._entries if c == context]


def load(lang: str, entries: Mapping[Key, Entry] | None = None) -> Catalogue:
    """Read, check and compile one language's catalogue."""
    if entries is None:
        entries = template_entries(read(template_path()))
    catalog = read(catalogue_path(lang), lang)
    found = problems(catalog, entries, lang)
    if found:
        raise CatalogueError(
            f"the {lang} catalogue ({DOMAIN}.po) is not usable:\n  " + "\n  ".join(found)
        )
    return Catalogue(lang, compile_catalog(catalog), entries)


def load_all(languages: Iterable[str] = LANGUAGES) -> dict[str, Catalogue]:
    """Every language's catalogue, checked against one reading of the template."""
    entries = template_entries(read(template_path()))
    return {lang: load(lang, entries) for lang in languages}
