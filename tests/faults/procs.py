"""The sandbox in this process, the bot as a real subprocess (so it can be SIGKILLed).

``BotProcess`` starts ``.venv/bin/python -m bot run`` with LIAISON_* variables pointing at
an in-process :class:`Sandbox`, a temporary database and a roster file; its standard error
is read continuously (a pipe, so a file-size limit on the bot never hides its log).
``fast_sender=True`` starts it through ``tests.faults.fastbot`` instead: the same
``liaison-bot run``, with the sender's pacing relaxed so a test need not wait out
Telegram's 20-messages-a-minute group limit (the sandbox enforces no limit there).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.sandbox.server import Sandbox
from tests.e2e.harness import CHAT, ROSTER, SUP_CHAT, World, populate

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():  # e.g. run from another environment: use the running interpreter
    PYTHON = Path(sys.executable)

TRACEBACK = "Traceback (most recent call last)"
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, capability.h


def card_tickets(text: str) -> list[int]:
    """Tickets a card message shows: '📌 Ticket #N', or the '#N link · …' lines of a group."""
    if "\nHistory:" in text:
        return []  # /ticket N: a snapshot of the card and its history, not a card
    if text.startswith("📌"):
        m = re.search(r"#(\d+)", text)
        return [int(m.group(1))] if m else []
    if text.startswith("📥"):
        return [int(n) for n in re.findall(r"^#(\d+) ", text, re.MULTILINE)]
    return []


def drop_dac_override() -> None:
    """Make file permissions bind this process even as root (for a child, before exec).

    Root ignores a file's mode through CAP_DAC_OVERRIDE; dropped from the bounding set it is
    gone after exec, so a read-only file or directory is read-only for the bot too.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def roster_text(
    *,
    start: str = "2026-01-01T00:00:00+00:00",
    shift: str = "10000h",
    order: str = '["andi_mod", "budi_mod"]',
) -> str:
    """The e2e roster (Andi on call for a very long shift) as a TOML file's text."""
    return ROSTER.replace("{start}", start).replace("{shift}", shift).replace("{order}", order)


def new_sandbox(token: str | None = None) -> Sandbox:
    """A sandbox without a group limit, with the e2e chats and people."""
    sandbox = Sandbox(token, group_limit=None) if token else Sandbox(group_limit=None)
    populate(sandbox)
    return sandbox


@dataclass
class BotProcess:
    """One bot, restartable: every start is a new process on the same database."""

    sandbox: Sandbox
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    fast_sender: bool = False
    honour_permissions: bool = False  # as root: run without CAP_DAC_OVERRIDE
    proc: asyncio.subprocess.Process | None = None
    lines: list[str] = field(default_factory=list)  # stderr+stdout of every run, in order
    runs: int = 0
    exit_codes: list[int] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.roster = self.workdir / "roster.toml"
        if not self.roster.exists():
            self.roster.write_text(roster_text())
        self.database = self.workdir / "liaison.db"

    def environment(self) -> dict[str, str]:
        """The child's environment: ours without LIAISON_*, plus the test's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
        env.update(
            {
                "LIAISON_BOT_TOKEN": self.sandbox.token,
                "LIAISON_API_BASE_URL": self.sandbox.base_url,
                "LIAISON_CHAT_ID": str(CHAT),
                "LIAISON_SUPERVISOR_CHAT_ID": str(SUP_CHAT),
                "LIAISON_ROSTER": str(self.roster),
                "LIAISON_DATABASE": str(self.database),
                "LIAISON_LANGUAGE": "en",
                "LIAISON_DIGEST_AT": "",
                "LIAISON_HTTP_LISTEN": "127.0.0.1:0",  # a free port: bots run side by side
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(self.env)
        return env

    @property
    def as_unprivileged(self) -> bool:
        """Whether children must shed root's way around file permissions."""
        return self.honour_permissions and os.geteuid() == 0

    def command(self) -> list[str]:
        module = "tests.faults.fastbot" if self.fast_sender else "bot"
        return [str(PYTHON), "-m", module, "run"]

    async def start(self, *, wait: bool = True, within: float = 20.0) -> None:
        """Start a new process; with ``wait``, until it polls the sandbox."""
        if self.running:
            raise RuntimeError("the bot is already running")
        polls = self.sandbox.call_count("getUpdates")
        checks = self.sandbox.call_count("getWebhookInfo")  # webhook mode: set, then checked

        self.runs += 1
        self.lines.append(f"----- run {self.runs}")
        self.proc = await asyncio.create_subprocess_exec(
            *self.command(),
            cwd=self.workdir,  # no stray .env file is read
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=drop_dac_override if self.as_unprivileged else None,
        )
        self._reader = asyncio.create_task(self._read(self.proc))
        if wait:
            await self.wait_for(
                lambda: (
                    self.sandbox.call_count("getUpdates") > polls
                    or self.sandbox.call_count("getWebhookInfo") > checks
                    or self.exited
                ),
                within,
                "the bot polls (or sets its webhook)",
            )
            if self.exited:
                raise AssertionError(f"the bot exited at start:\n{self.log()}")

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the bot."""
        if self.running:
            assert self.proc is not None
            self.proc.kill()
        await self._reap(10.0)

    async def stop(self, within: float = 20.0) -> int:
        """SIGTERM (a clean stop); SIGKILL if it does not end in time. Returns the exit code."""
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(self.proc.wait()), within)
            except TimeoutError:
                self.proc.kill()
        return await self._reap(10.0)

    async def wait_exit(self, within: float) -> int:
        """Wait for the process to end by itself."""
        assert self.proc is not None
        await asyncio.wait_for(self.proc.wait(), within)
        return await self._reap(5.0)

    async def _reap(self, within: float) -> int:
        if self.proc is None:
            return 0
        code = await asyncio.wait_for(self.proc.wait(), within)
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reader, 5.0)
            self._reader = None
        self.exit_codes.append(code)
        self.proc = None
        return code

    async def cli(self, *args: str, within: float = 60.0) -> tuple[int, str, str]:
        """``liaison-bot <args>`` with this bot's settings: exit code, stdout, stderr."""
        proc = await asyncio.create_subprocess_exec(
            str(PYTHON),
            "-m",
            "bot",
            *args,
            cwd=self.workdir,
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=drop_dac_override if self.as_unprivileged else None,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), within)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        return proc.returncode or 0, out.decode(), err.decode()

    def log(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(
        self, predicate: Callable[[], T | bool | None], within: float, what: str
    ) -> T:
        """Poll ``predicate`` until truthy; the bot's log explains a timeout."""
        return await until(predicate, within, what, context=lambda: f"--- bot log:\n{self.log()}")

    def log_matches(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        return [line for line in self.lines if rx.search(line)]


async def until(
    predicate: Callable[[], T | bool | None],
    within: float,
    what: str,
    *,
    interval: float = 0.05,
    context: Callable[[], str] = lambda: "",
) -> T:
    """Poll ``predicate`` until truthy: a database file or a log line fires no sandbox event."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        result = predicate()
        if result:
            return result  # type: ignore[return-value]
        if loop.time() > end:
            raise AssertionError(f"not met within {within}s: {what}\n{context()}")
        await asyncio.sleep(interval)


async def settled(world: World, within: float = 60.0) -> None:
    """An in-process bot has confirmed every update and delivered every notification.

    Like ``World.settled`` with room for a loaded machine, and counting postponed retries.
    """
    database = Path(world.settings.database)
    await world.wait(lambda: world.sandbox.pending_updates() == 0, within)
    await until(
        lambda: not query(database, "SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1"),
        within,
        "every notification delivered",
    )


@contextlib.asynccontextmanager
async def bot_process(sandbox: Sandbox, workdir: Path, **kw: Any) -> AsyncIterator[BotProcess]:
    """A BotProcess that is always killed (if still running) on the way out."""
    bot = BotProcess(sandbox, workdir, **kw)
    try:
        yield bot
    finally:
        await bot.kill()


@contextlib.contextmanager
def db_connect(path: Path, *, readonly: bool = True) -> Iterator[sqlite3.Connection]:
    """A short-lived sqlite3 connection to the bot's database (from outside the bot)."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=10.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Rows of one read-only query on the bot's database."""
    if not path.exists():
        return []
    with db_connect(path) as conn:
        return list(conn.execute(sql, params))


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the database ('ok' when sound)."""
    with db_connect(path) as conn:
        return "\n".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
