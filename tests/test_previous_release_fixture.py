"""The previous-release fixture loads as that release left it and holds what README says."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

from storage.db import MIGRATIONS

FIXTURES = Path(__file__).parent / "fixtures"
DUMP = FIXTURES / "previous_release.sql"
README = FIXTURES / "README.md"
SCHEMA_VERSION = 4

# The detail forms today's release writes, per event kind, first match wins.
FORMS: dict[str, list[tuple[str, str]]] = {
    "created": [
        (r"https://t\.me/\S+ \(urgent\)", "<link> (urgent)"),
        (r"https://t\.me/\S+", "<link>"),
        (r"forwarded message \d+ \(urgent\)", "forwarded message <N> (urgent)"),
        (r"forwarded message \d+", "forwarded message <N>"),
    ],
    "duplicate": [(r"report \d+", "report <N>")],
    "urgent": [(r"marked urgent by a later report", "marked urgent by a later report")],
    "reopened": [
        (r"content back: #\d+", "content back: #<N>"),
        (r"", "(empty)"),
        (r".+", "<reason>"),
    ],
    "acknowledged": [(r"", "(empty)")],
    "removed": [
        (r"(removed|banned|restricted|gone)", "<outcome>"),
        (r"banned: channel banned \(#\d+\)", "banned: channel banned (#<N>)"),
        (r"(removed|banned|restricted|gone): .+", "<outcome>: <note>"),
    ],
    "rejected": [(r"rejected: .+", "rejected: <reason>")],
    "note": [(r".+", "<text>")],
    "clarification": [(r".+", "<question>")],
    "clarified": [(r".+", "<answer>")],
    "assigned": [(r"@\w+", "@<username>")],
    "escalated": [
        (r"step 1: ack_reminder", "step 1: ack_reminder"),
        (r"step 2: overdue", "step 2: overdue"),
        (
            r"step \d+: overdue_repeat, \d+s past the deadline",
            "step <N>: overdue_repeat, <X>s past the deadline",
        ),
        (r"nobody on call: supervisors", "nobody on call: supervisors"),
        (r".+ not reachable: supervisors", "<name> not reachable: supervisors"),
    ],
    "evidence_purged": [(r"\d+ item\(s\)", "<N> item(s)")],
}


def form_of(kind: str, detail: str) -> str:
    """The README's name for an event's detail form; fails on a form it does not list."""
    for pattern, name in FORMS[kind]:
        if re.fullmatch(pattern, detail, flags=re.DOTALL):
            if kind == "removed" and name.startswith("<outcome>"):
                return detail.split(":")[0] + name.removeprefix("<outcome>")
            return name
    raise AssertionError(f"unlisted {kind} detail: {detail!r}")


def readme_table(heading: str) -> list[list[str]]:
    """The rows of the markdown table under a README heading, cells without backticks."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading) + 1
    rows: list[list[str]] = []
    for line in lines[start:]:
        if line.startswith("#"):
            break
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        rows.append([c.strip().strip("`") for c in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header


def load(tmp_path: Path) -> Path:
    path = tmp_path / "previous.db"
    raw = sqlite3.connect(path)
    try:
        raw.executescript(DUMP.read_text(encoding="utf-8"))
    finally:
        raw.close()
    return path


def schema(path: Path) -> tuple[int, list[tuple[str, str]]]:
    raw = sqlite3.connect(path)
    try:
        version = raw.execute("PRAGMA user_version").fetchone()[0]
        objects = raw.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        raw.close()
    return version, objects


def test_dump_is_small_and_sets_the_schema_version() -> None:
    text = DUMP.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 300_000
    assert text.rstrip().endswith(f"PRAGMA user_version={SCHEMA_VERSION};")


def test_is_a_database_of_the_previous_release(tmp_path: Path) -> None:
    version, objects = schema(load(tmp_path))
    assert version == SCHEMA_VERSION < len(MIGRATIONS)  # the upgrade is tests/test_upgrade.py
    assert ("events", objects[[n for n, _ in objects].index("events")][1]) in objects


def readme_rows() -> dict[str, str]:
    return dict(readme_table("### Rows per table"))


def test_row_counts_match_the_readme(tmp_path: Path) -> None:
    raw = sqlite3.connect(load(tmp_path))
    try:
        actual = {
            table: str(raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in readme_rows()
        }
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        raw.close()
    assert actual == readme_rows()
    assert set(readme_rows()) == names  # every table listed


def test_event_kinds_and_forms_match_the_readme(tmp_path: Path) -> None:
    raw = sqlite3.connect(load(tmp_path))
    try:
        events = raw.execute("SELECT kind, detail FROM events").fetchall()
    finally:
        raw.close()
    kinds = Counter(kind for kind, _ in events)
    forms = Counter((kind, form_of(kind, detail)) for kind, detail in events)
    assert {k: str(n) for k, n in kinds.items()} == dict(readme_table("### Events by kind"))
    listed = {(kind, form): n for kind, form, n in readme_table("### Event detail forms")}
    assert {key: str(n) for key, n in forms.items()} == listed
    assert set(kinds) == set(FORMS)  # every kind the release writes is in the fixture


def test_outbox_kinds_keys_and_states_match_the_readme(tmp_path: Path) -> None:
    raw = sqlite3.connect(load(tmp_path))
    try:
        rows = raw.execute(
            "SELECT kind, COALESCE(json_extract(payload, '$.key'), ''), state, COUNT(*) "
            "FROM outbox GROUP BY 1, 2, 3"
        ).fetchall()
    finally:
        raw.close()
    actual: dict[tuple[str, str], dict[str, str]] = {}
    for kind, key, state, n in rows:
        actual.setdefault((kind, key or "—"), {})[state] = str(n)
    listed = {
        (kind, key): {
            s: n for s, n in zip(("pending", "sent", "failed"), counts, strict=True) if n != "0"
        }
        for kind, key, *counts in readme_table("### Outbox by kind, key and state")
    }
    assert actual == listed
