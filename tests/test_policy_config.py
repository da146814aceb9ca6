"""LIAISON_POLICY: a file replaces the built-in categories, or start is refused with the
file's line and the reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_unset_is_the_builtin_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIAISON_POLICY", raising=False)
    monkeypatch.setenv("LIAISON_RESOLVE_DEADLINE", "3h")
    policy = load_settings(_env_file=None).policy
    assert "gambling" in policy.categories.keys
    assert policy.categories.get("other").agreed == timedelta(hours=3)


def test_a_file_replaces_the_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[[category]]\nkey = "other"\nlegal = "24h"\n\n'
        '[[category]]\nkey = "gambling"\nname = { id = "Judi", en = "Gambling" }\n'
        'tags = ["judol"]\nagreed = "2h"\nlegal = "4h"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LIAISON_POLICY", str(path))
    policy = load_settings(_env_file=None).policy
    assert policy.categories.keys == ("other", "gambling")
    assert policy.categories.get("gambling").agreed == timedelta(hours=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '[[category]]\nkey = "other"\nlegal = "24h"\ntags = ["a", "A"]\n',
            "LIAISON_POLICY: policy line 4: tag 'a' is used twice in 'other'",
        ),
        (
            '[[category]]\nkey = "other"\nlegal = "soon"\n',
            "LIAISON_POLICY: policy line 3: legal: ",
        ),
    ],
)
def test_a_bad_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("LIAISON_POLICY", str(path))
    with pytest.raises(ConfigError) as caught:
        _ = load_settings(_env_file=None).policy
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIAISON_POLICY", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"LIAISON_POLICY: cannot read nope\.toml"):
        _ = load_settings(_env_file=None).policy
