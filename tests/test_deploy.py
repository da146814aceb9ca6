"""The deployment files: the systemd unit verifies, the container builds and turns healthy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "liaison-bot.service"


def test_the_unit_hardens_and_uses_the_watchdog() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "StateDirectory=liaison-bot",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "User=liaison-bot",
    ):
        assert line in text, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # the unit names the installed path; here the interpreter stands in for it
    unit = tmp_path / "liaison-bot.service"
    text = UNIT.read_text(encoding="utf-8").replace(
        "/opt/liaison-bot/.venv/bin/liaison-bot run", f"{sys.executable} -m bot run"
    )
    unit.write_text(text, encoding="utf-8")
    run = subprocess.run(  # noqa: S603 - a fixed tool on a file of ours
        ["systemd-analyze", "verify", str(unit)],  # noqa: S607 - found on PATH above
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    problems = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        # verify also looks at the host's own units: only ours matters here
        if "liaison-bot.service" in line
    ]
    assert run.returncode == 0 or not problems, run.stdout + run.stderr
    assert problems == [], problems


def _engine() -> str | None:
    for tool in ("docker", "podman"):
        if shutil.which(tool) is None:
            continue
        probe = subprocess.run(  # noqa: S603 - a fixed tool
            [tool, "info"], capture_output=True, timeout=20, check=False
        )
        if probe.returncode == 0:
            return tool
    return None


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_container_builds() -> None:
    engine = _engine()
    if engine is None:
        pytest.skip("no working container engine (docker/podman) here")
    build = subprocess.run(  # noqa: S603 - a fixed tool on our own Dockerfile
        [engine, "build", "-q", "-t", "liaison-bot:test", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=880,
        check=False,
    )
    assert build.returncode == 0, build.stderr
