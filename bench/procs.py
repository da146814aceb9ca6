"""Child processes: the sandbox Bot API, the bot, the echo bot; always stopped, never leaked."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TOKEN = "123456:SANDBOX-token"  # noqa: S105 - the sandbox's fake token, not a secret
STOP_WITHIN = 10.0


@dataclass
class Child:
    """A started process and where its output goes."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_mb(self) -> float:
        """VmHWM of the live process, in MiB."""
        return _status_kib(self.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        """VmRSS of the live process, in MiB."""
        return _status_kib(self.pid, "VmRSS") / 1024

    def cpu_seconds(self) -> float:
        """User plus system CPU time the live process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        """Raise with the log's tail if the process has exited."""
        if self.process.returncode is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}:\n{tail(self.log)}"
            )


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file (for error messages)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def stop(child: Child) -> None:
    """SIGTERM, then SIGKILL if it has not exited within STOP_WITHIN seconds."""
    process = child.process
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_WITHIN)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def spawn(
    name: str,
    argv: list[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout_pipe: bool = False,
) -> AsyncIterator[Child]:
    """Start a process; stop it (by its own pid) on the way out, whatever happened."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if stdout_pipe else sink,
            stderr=sink,
            env=full_env,
            cwd=str(cwd or ROOT),
        )
    child = Child(name, process, log)
    try:
        yield child
    finally:
        await stop(child)


@dataclass
class SandboxProc:
    """A running sandbox process and a control client for it."""

    child: Child
    port: int
    client: SandboxClient

    @property
    def base_url(self) -> str:
        """What the bot's LIAISON_API_BASE_URL must be."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def calls(self, method: str) -> int:
        """How many calls of a Bot API method the sandbox has answered or refused."""
        stats = await self.client.stats()
        return int(stats["calls"].get(method, 0))

    async def continue_update_ids(self, after: int) -> None:
        """Make the next update ids follow `after`, as Telegram's do across a bot's restarts
        (a fresh sandbox starts at 1, which a bot that remembers its last update skips)."""
        url = f"http://127.0.0.1:{self.port}/_sandbox/push_update"
        async with aiohttp.ClientSession() as session:
            body = {"update": {"update_id": after + 1}}  # an update with nothing in it
            async with session.post(url, json=body) as response:
                response.raise_for_status()

    async def wait_calls(
        self, method: str, above: int, within: float, *, watch: Child | None = None
    ) -> float:
        """Poll until more than `above` calls of `method`; returns time.monotonic() then."""
        deadline = time.monotonic() + within
        while True:
            if await self.calls(method) > above:
                return time.monotonic()
            if watch is not None:
                watch.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} call within {within}s")
            await asyncio.sleep(0.005)  # another process: nothing to wait on but its answers


@contextlib.asynccontextmanager
async def sandbox(
    workdir: Path, *, group_limit: int | None, group_window: float = 60.0
) -> AsyncIterator[SandboxProc]:
    """`python -m bot.sandbox` on a free loopback port."""
    argv = [
        PYTHON,
        "-m",
        "bot.sandbox",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--group-limit",
        "none" if group_limit is None else str(group_limit),
        "--group-window",
        str(group_window),
    ]
    async with spawn("sandbox", argv, workdir / "sandbox.log", stdout_pipe=True) as child:
        stdout = child.process.stdout
        assert stdout is not None
        try:
            line = (await asyncio.wait_for(stdout.readline(), 20.0)).decode()
        except TimeoutError:
            raise RuntimeError(f"sandbox did not start:\n{tail(child.log)}") from None
        if "listening on" not in line:
            raise RuntimeError(f"sandbox did not start ({line!r}):\n{tail(child.log)}")
        port = int(line.rsplit(":", 1)[1])
        async with SandboxClient(f"http://127.0.0.1:{port}") as client:
            await client.wait_ready()
            yield SandboxProc(child, port, client)


def bot_argv(module: str = "bot", *args: str) -> list[str]:
    """`python -m bot run` (production) or a bench launcher module with its options."""
    return [PYTHON, "-m", module, "run"] if module == "bot" else [PYTHON, "-m", module, *args]
