"""The message catalogues (bot/locale) and the pieces Texts builds from them.

The catalogue checks read the `.po` files with Babel directly, not through the loader, so
that a loader which forgot a check would not hide a broken catalogue.
"""

from __future__ import annotations

import re
import string
import tomllib
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.domain.roster import Roster
from bot.texts import HELP, USAGE, Texts
from bot.texts.catalogue import CatalogueError, load, problems, read, template_entries

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "bot" / "locale"
TEMPLATE = LOCALE / "liaison.pot"
LANGS = ("id", "en")
PLURAL_FORMS = {"id": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}
JAKARTA = ZoneInfo("Asia/Jakarta")
PLACEHOLDER = re.compile(r"^\{(\w+)\}:")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "liaison.po"


def parse(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


def key(m: Message) -> tuple[str | None, str]:
    return m.context, m.id if isinstance(m.id, str) else m.id[0]


def forms(m: Message) -> list[str]:
    return [m.string] if isinstance(m.string, str) else list(m.string)


def names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def template() -> dict[tuple[str | None, str], tuple[bool, set[str]]]:
    """(context, key) -> (has plural forms, the placeholders its comments declare)."""
    out = {}
    for m in parse(TEMPLATE):
        if m.id:
            declared = {g.group(1) for c in m.auto_comments if (g := PLACEHOLDER.match(c))}
            out[key(m)] = (m.pluralizable, declared)
    return out


def texts(lang: str, zone: ZoneInfo = JAKARTA) -> Texts:
    return Texts(lang, zone, Roster((), None))


# ---- the catalogues themselves --------------------------------------------------------


@pytest.mark.parametrize("path", [TEMPLATE, *(po_path(lang) for lang in LANGS)], ids=str)
def test_catalogues_parse_with_babel(path: Path) -> None:
    catalog = parse(path)
    assert len([m for m in catalog if m.id]) > 50


@pytest.mark.parametrize("lang", LANGS)
def test_headers_name_the_language_and_its_plural_forms(lang: str) -> None:
    raw = po_path(lang).read_text("utf-8")
    assert f'"Language: {lang}\\n"' in raw
    assert f'"Plural-Forms: {PLURAL_FORMS[lang]}\\n"' in raw
    catalog = parse(po_path(lang))
    assert str(catalog.locale) == lang
    assert catalog.num_plurals == (1 if lang == "id" else 2)


@pytest.mark.parametrize("lang", LANGS)
def test_every_msgid_of_the_template_is_translated(lang: str) -> None:
    want = template()
    catalog = parse(po_path(lang))
    got = {key(m): m for m in catalog if m.id}
    assert sorted(want, key=str) == sorted(got, key=str)
    for k, m in got.items():
        assert m.pluralizable == want[k][0], k
        assert not m.fuzzy, k
        assert all(forms(m)), f"{k} is not translated"
        if m.pluralizable:
            assert len(forms(m)) == catalog.num_plurals, k


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_of_each_translation_are_the_templates(lang: str) -> None:
    want = template()
    for m in parse(po_path(lang)):
        if m.id:
            for form in forms(m):
                assert names(form) == want[key(m)][1], (key(m), form)


def test_the_template_has_no_translations_and_declares_placeholders() -> None:
    catalog = parse(TEMPLATE)
    assert all(not any(forms(m)) for m in catalog if m.id)
    declared = template()
    assert declared[None, "dup_line"][1] == {"ref", "n"}
    assert declared[None, "handoff"][1] == {"from_", "to", "until", "n", "lines"}
    assert declared[None, "acked"][1] == {"id"}
    assert declared[None, "urgent"][1] == set()


def test_the_catalogues_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["bot"]
    files = [p.relative_to(ROOT / "bot").as_posix() for p in LOCALE.rglob("*") if p.is_file()]
    assert len(files) == 3
    for f in files:
        assert any(fnmatch(f, g) for g in globs), f


# ---- the loader refuses a broken catalogue ----------------------------------------------


def broken(tmp_path: Path, lang: str, old: str, new: str) -> Path:
    text = po_path(lang).read_text("utf-8")
    assert old in text
    path = tmp_path / "liaison.po"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


BREAKAGES = [
    ("en", 'msgid "acked"\nmsgstr "✅ #{id} acknowledged."\n', "", "acked: missing"),
    ("en", 'msgstr "✅ #{id} acknowledged."', 'msgstr ""', "acked: not translated"),
    ("id", 'msgstr "✅ #{id} diterima."', 'msgstr "✅ #{nomor} diterima."', "acked: placeholders"),
    ("id", 'msgstr "✅ #{id} diterima."', 'msgstr "✅ #{id diterima."', "acked: not a format"),
    ("en", 'msgid "acked"', '#, fuzzy\nmsgid "acked"', "acked: marked fuzzy"),
    ("en", "nplurals=2; plural=(n != 1);", "nplurals=1; plural=0;", "more translations"),
    ("id", "nplurals=1; plural=0;", "nplurals=2; plural=(n != 1);", "nplurals=2, id has 1"),
    ("en", "nplurals=2; plural=(n != 1);", "nplurals=2; plural=(n > 1);", "plural=(n > 1)"),
    ("id", '"Language: id\\n"', '"Language: en\\n"', "Language header is en"),
    ("en", 'msgstr[1] "📥 {n} new tickets"\n', "", "new_tickets: not translated"),
    ("en", 'msgid_plural "new_tickets"\n', "", "new_tickets: plural forms missing"),
    ("en", 'msgid "acked"', 'msgid "acked2"', "acked2: not in the template"),
]


@pytest.mark.parametrize(("lang", "old", "new", "problem"), BREAKAGES)
def test_a_broken_catalogue_is_reported(
    tmp_path: Path, lang: str, old: str, new: str, problem: str
) -> None:
    entries = template_entries(read(TEMPLATE))
    try:
        found = problems(read(broken(tmp_path, lang, old, new), lang), entries, lang)
    except CatalogueError as exc:  # Babel itself refuses some (more forms than nplurals)
        found = [str(exc)]
    assert any(problem in p for p in found), found


def test_the_shipped_catalogues_have_no_problems() -> None:
    entries = template_entries(read(TEMPLATE))
    for lang in LANGS:
        assert problems(read(po_path(lang)), entries, lang) == []


def test_a_broken_catalogue_stops_the_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = broken(tmp_path, "en", 'msgstr "✅ #{id} acknowledged."', 'msgstr ""')
    monkeypatch.setattr("bot.texts.catalogue.catalogue_path", lambda lang: path)
    with pytest.raises(CatalogueError, match="acked: not translated"):
        load("en")


def test_unparsable_po_is_a_catalogue_error(tmp_path: Path) -> None:
    path = broken(tmp_path, "en", 'msgid "acked"', 'acked = "✅ #{id} acknowledged."')
    with pytest.raises(CatalogueError, match=r"liaison\.po"):
        read(path)


# ---- Texts reads the catalogues, with no English fallback ---------------------------------


def test_a_missing_key_is_an_error_not_a_fallback() -> None:
    for lang in LANGS:
        with pytest.raises(KeyError, match="no_such_key"):
            texts(lang).t("no_such_key")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        texts("fr")


@pytest.mark.parametrize(
    ("lang", "n", "text"),
    [
        ("en", 1, "📥 1 new ticket"),
        ("en", 2, "📥 2 new tickets"),
        ("en", 0, "📥 0 new tickets"),
        ("id", 1, "📥 1 tiket baru"),
        ("id", 2, "📥 2 tiket baru"),
    ],
)
def test_plural_forms(lang: str, n: int, text: str) -> None:
    x = texts(lang)
    assert x.plural("new_tickets", n) == text
    assert x.t("new_tickets", n=n) == text


def test_plural_forms_of_the_channel_line() -> None:
    assert texts("en").plural("channel_line", 1) == "This channel: 1 open ticket"
    assert texts("en").plural("channel_line", 3) == "This channel: 3 open tickets"
    assert texts("id").plural("channel_line", 1) == "Channel ini: 1 tiket terbuka"
    assert texts("id").plural("channel_line", 3) == "Channel ini: 3 tiket terbuka"


def test_the_old_singular_key_still_answers() -> None:
    assert texts("en").t("new_tickets_one") == "📥 1 new ticket"
    assert texts("id").t("new_tickets_one") == "📥 1 tiket baru"


def test_a_plural_message_needs_its_count() -> None:
    with pytest.raises(TypeError, match="new_tickets"):
        texts("en").t("new_tickets")
    with pytest.raises(KeyError, match="no plural forms"):
        texts("en").plural("acked", 2, id=1)


def test_messages_format_their_arguments() -> None:
    assert texts("id").t("acked", id=7) == "✅ #7 diterima."
    assert texts("en").t("acked", id=7) == "✅ #7 acknowledged."
    assert texts("en").t("dup_line", ref="#3 x", n=2) == "#3 x (reported 2×)"


def test_help_and_usage_come_from_the_catalogues() -> None:
    assert list(HELP) == ["reporter", "moderator", "supervisor"]
    assert HELP["moderator"]["en"][0] == "/ack N… — acknowledge tickets (or reply to the card)"
    assert HELP["reporter"]["id"][-1] == "/oncall — siapa yang piket"
    assert all(len(HELP[level]["id"]) == len(HELP[level]["en"]) for level in HELP)
    assert USAGE["reject"] == {"id": "N alasan", "en": "N reason"}
    assert USAGE["export"]["id"] == "[hari, bawaan 30]"
    assert set(USAGE) >= {"ack", "done", "reject", "note", "clarify", "reopen", "assign"}


# ---- dates, times and durations ---------------------------------------------------------

MONTHS = {
    "id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


@pytest.mark.parametrize("lang", LANGS)
def test_when_names_the_months_of_the_language(lang: str) -> None:
    x = texts(lang)
    for month in range(1, 13):
        at = datetime(2026, month, 15, 3, 4, tzinfo=UTC)  # 10:04 WIB
        assert x.when(at) == f"15 {MONTHS[lang][month - 1]} 10:04 WIB"


def test_when_in_indonesian_and_english() -> None:
    aug = datetime(2026, 8, 3, 1, 5, 9, tzinfo=UTC)
    assert texts("id").when(aug) == "03 Agu 08:05 WIB"
    assert texts("en").when(aug) == "03 Aug 08:05 WIB"
    assert texts("id").when(aug, seconds=True) == "03 Agu 08:05:09 WIB"
    assert texts("id").when(datetime(2026, 5, 1, 0, 0, tzinfo=UTC)) == "01 Mei 07:00 WIB"
    assert texts("id").when(datetime(2026, 12, 24, 9, 30, tzinfo=UTC)) == "24 Des 16:30 WIB"


def test_when_is_in_the_configured_zone() -> None:
    new_year = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # already 2027 in Jakarta
    assert texts("id").when(new_year) == "01 Jan 00:30 WIB"
    assert texts("en", ZoneInfo("UTC")).when(new_year) == "31 Dec 17:30 UTC"
    assert texts("en", ZoneInfo("Asia/Makassar")).when(new_year) == "01 Jan 01:30 WITA"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert texts("en", ZoneInfo("America/New_York")).when(summer) == "01 Jul 08:00 EDT"


@pytest.mark.parametrize(
    ("delta", "id_text", "en_text"),
    [
        (timedelta(hours=1, minutes=30), "1j 30m", "1h 30m"),
        (timedelta(days=2, hours=3, minutes=4), "2h 3j", "2d 3h"),
        (timedelta(minutes=5, seconds=7), "5m 7d", "5m 7s"),
        (timedelta(days=1, seconds=9), "1h 9d", "1d 9s"),
        (timedelta(0), "0d", "0s"),
        (timedelta(seconds=-30), "0d", "0s"),
    ],
)
def test_span(delta: timedelta, id_text: str, en_text: str) -> None:
    assert texts("id").span(delta) == id_text
    assert texts("en").span(delta) == en_text
