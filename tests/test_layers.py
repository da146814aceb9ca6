"""Dependencies point inward (STYLE.md): checked on the source, so a circle cannot creep back."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIRING = ("bot.app", "bot.pipeline", "bot.sender", "bot.jobs", "bot.scheduler", "handlers")


def runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (imports under `if TYPE_CHECKING:` left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("path", modules("handlers"), ids=lambda p: p.name)
def test_handlers_do_not_import_the_wiring(path: Path) -> None:
    wiring = [m for m in runtime_imports(path) if within(m, WIRING[:-1])]
    assert wiring == [], f"{path.name} imports {wiring}"


@pytest.mark.parametrize("path", modules("bot/domain"), ids=lambda p: p.name)
def test_the_domain_is_pure(path: Path) -> None:
    outside = [
        m
        for m in runtime_imports(path)
        if m.split(".")[0] not in sys.stdlib_module_names and not within(m, ("bot.domain",))
    ]
    assert outside == [], f"{path.name} imports {outside}"


@pytest.mark.parametrize("path", modules("storage"), ids=lambda p: p.name)
def test_storage_imports_only_domain_models(path: Path) -> None:
    allowed = ("bot.domain", "bot.notices", "storage", "aiosqlite")
    outside = [
        m
        for m in runtime_imports(path)
        if m.split(".")[0] not in sys.stdlib_module_names and not within(m, allowed)
    ]
    assert outside == [], f"{path.name} imports {outside}"


@pytest.mark.parametrize("name", ["bot/context.py", "bot/notices.py"])
def test_leaves_import_no_other_module_of_the_bot(name: str) -> None:
    inner = [m for m in runtime_imports(ROOT / name) if within(m, ("bot", "handlers", "storage"))]
    assert inner == [], f"{name} imports {inner}"


@pytest.mark.parametrize("path", modules("bot/services"), ids=lambda p: p.name)
def test_services_know_nothing_of_telegram(path: Path) -> None:
    telegram = [m for m in runtime_imports(path) if within(m, ("telegram", *WIRING))]
    assert telegram == [], f"{path.name} imports {telegram}"
