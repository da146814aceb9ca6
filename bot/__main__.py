"""Command line: liaison-bot run | demo | check | export | verify | stats | backup."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.domain.roster import Roster, shifts_between
from bot.roster_file import RosterError, load_roster
from bot.verifier import add_arguments as add_verify_arguments

log = logging.getLogger("liaison")


class RedactToken(logging.Filter):
    """Replace the bot token wherever it would appear in a log line."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message with the token masked."""
        if self.secret and self.secret in record.getMessage():
            record.msg = record.getMessage().replace(self.secret, "[token]")
            record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """Masks the token in the whole formatted line: a filter never sees the traceback text."""

    def __init__(self, fmt: str, secret: str | None) -> None:
        super().__init__(fmt)
        # the bot id before the colon is public; the part after it is the secret
        self.secrets = [s for s in (secret, (secret or "").partition(":")[2]) if s]

    def format(self, record: logging.LogRecord) -> str:
        """The usual line (with any traceback), the token masked."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return text


class JsonFormatter(RedactingFormatter):
    """One JSON object a line (time, level, logger, message, exception), the token masked."""

    def __init__(self, secret: str | None) -> None:
        super().__init__("%(message)s", secret)

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        import json

        entry: dict[str, str | None] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._mask(record.getMessage()),
            "exception": self._mask(self.formatException(record.exc_info))
            if record.exc_info
            else None,
        }
        return json.dumps(entry, ensure_ascii=False)

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return text


def setup_logging(secret: str | None, level: int = logging.INFO, fmt: str = "text") -> None:
    """Plain log lines (or JSON, one object a line); httpx (which logs URLs holding the
    token) kept at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(secret)
        if fmt == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secret)
    )
    if secret:
        handler.addFilter(RedactToken(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # with max_retries=0 PTB's rate limiter logs every 429 it passes on as an ERROR with a
    # traceback; the outbox retries it and logs it as the warning it is
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)


def _fail(message: str) -> int:
    print(f"liaison-bot: {message}", file=sys.stderr)
    return 2


def _load(require_run: bool = True) -> tuple[Settings, Roster]:
    settings = load_settings()
    if require_run:
        settings.require_run()
    roster = load_roster(settings.roster)
    return settings, roster


def command_run(_: argparse.Namespace) -> int:
    """The bot, long polling, until SIGINT/SIGTERM."""
    from telegram.error import InvalidToken, TelegramError

    from bot.app import Runtime, build_application, serve
    from bot.pipeline import StorageFailure
    from storage.db import StorageError

    settings, roster = _load()
    setup_logging(settings.token, fmt=settings.log_format)
    app = build_application(Runtime(settings, roster, SystemClock()))

    async def main() -> None:
        task = asyncio.ensure_future(serve(app))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    except StorageFailure as exc:
        log.error("stopping: %s (nothing unstored was confirmed to Telegram)", exc)
        return 3
    except InvalidToken:
        # PTB's own message quotes the token: never let it reach a traceback
        log.error("Telegram rejected the bot token: check LIAISON_BOT_TOKEN (BotFather /token)")
        return 2
    except TelegramError as exc:
        log.error("stopping: Telegram could not be reached at start: %s", exc)
        return 1
    except (StorageError, OSError) as exc:  # cannot open, create or write the database
        log.error("stopping: database %s unusable: %s", settings.database, exc)
        return 3
    return 0


def command_check(args: argparse.Namespace) -> int:
    """Validate configuration and roster, print the rotation for the next days."""
    settings, roster = _load()
    zone = settings.zone
    now = SystemClock().now()
    print(f"configuration ok: liaison chat {settings.chat_id}, language {settings.language}")
    print(
        f"deadlines: acknowledge {settings.ack_deadline}, close {settings.resolve_deadline} "
        f"(urgent {settings.urgent_deadline}), repeat every {settings.escalation_repeat}"
    )
    print(f"roster ok: {len(roster.people)} people, {len(roster.supervisors)} supervisor(s)")
    shifts = shifts_between(roster, now, now + timedelta(days=args.days))
    if not shifts:
        print("rotation: nobody is on call (tickets go straight to supervisors)")
    for shift in shifts:
        p = shift.person
        start = shift.start.astimezone(zone).strftime("%a %d %b %H:%M")
        end = shift.end.astimezone(zone).strftime("%a %d %b %H:%M %Z")
        handle = f"@{p.username}" if p.username else f"id {p.telegram_id}"
        print(f"  {start} – {end}  {p.name} ({handle}, {p.phone or 'no phone'})")
    return 0


def command_export(args: argparse.Namespace) -> int:
    """Tickets and their history to standard output."""
    from bot.export import load_records, stream_records, to_csv, write_json
    from storage.db import Database

    settings = load_settings()
    since: datetime | None = None
    if args.since:
        try:
            day = date.fromisoformat(args.since)
        except ValueError:
            return _fail(f"--since: not a date (YYYY-MM-DD): {args.since!r}")
        since = datetime.combine(day, time(0), tzinfo=settings.zone).astimezone(UTC)
    if not settings.database.exists():
        return _fail(f"database not found: {settings.database} (LIAISON_DATABASE)")

    async def main() -> None:
        db = await Database.open(settings.database)
        try:
            if args.format == "json":  # streamed: bounded memory for any history
                await write_json(stream_records(db, settings.policy, since), sys.stdout)
            else:
                sys.stdout.write(to_csv(await load_records(db, settings.policy, since)))
        finally:
            await db.close()

    asyncio.run(main())
    return 0


def command_verify(args: argparse.Namespace) -> int:
    """Check a JSON export offline: no token, no database (see SPEC "Proof")."""
    from bot.verifier import run

    return run(args)


def command_stats(args: argparse.Namespace) -> int:
    """The figures of `/stats` in the terminal."""
    import html
    import re

    from bot.figures import load_stats, stats_text
    from bot.texts import Texts
    from storage.db import Database

    settings = load_settings()
    roster = load_roster(settings.roster) if settings.roster.exists() else Roster((), None)
    if not settings.database.exists():
        return _fail(f"database not found: {settings.database} (LIAISON_DATABASE)")
    if not 1 <= args.days <= 366:
        return _fail("--days: a whole number from 1 to 366")

    async def main() -> str:
        db = await Database.open(settings.database)
        try:
            now = SystemClock().now()
            stats = await load_stats(db, settings.policy, settings.zone, now, args.days)
        finally:
            await db.close()
        texts = Texts(settings.language, settings.zone, roster, settings.policy)
        return stats_text(stats, texts, args.days)

    print(html.unescape(re.sub(r"<[^>]+>", "", asyncio.run(main()))))
    return 0


def command_backup(args: argparse.Namespace) -> int:
    """A consistent copy of the database while the bot runs, checked before it says done."""
    settings = load_settings()
    try:
        backup_database(settings.database, Path(args.path))
    except BackupError as exc:
        print(f"liaison-bot: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup done: {args.path}")
    return 0


class BackupError(Exception):
    """The copy could not be made or did not check out: one line saying why."""


def backup_database(source: Path, target: Path) -> None:
    """SQLite's online backup of `source` into `target` (through a temporary file, renamed
    only once the copy passed its integrity check and, where events are chained, the
    chain check)."""
    import sqlite3

    if not source.exists():
        raise BackupError(f"database not found: {source} (LIAISON_DATABASE)")
    if target.resolve() == source.resolve():
        raise BackupError("the backup would overwrite the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                # all pages in one step, inside one read transaction: one consistent instant,
                # and in WAL mode the bot's writes go on meanwhile (a reader blocks no writer)
                src.backup(dst)
                check_copy(dst)
            finally:
                dst.close()
        finally:
            src.close()
        partial.replace(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(str(exc)) from None
    except BackupError:
        partial.unlink(missing_ok=True)
        raise


def check_copy(conn: Any) -> None:
    """Integrity of the copied file, and the chain of events where the events carry one."""
    result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise BackupError(f"integrity check of the copy: {'; '.join(result[:3])}")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if not {"hash", "prev"} <= columns:
        return  # a database from before the chain: nothing to check
    order = "seq" if "seq" in columns else "id"
    previous: str | None = None
    for number, (key, prev, digest) in enumerate(
        conn.execute(f"SELECT {order}, prev, hash FROM events ORDER BY {order}")
    ):
        if number and prev != previous:
            raise BackupError(
                f"chain broken at event {order} {key}: prev does not match the hash before it"
            )
        previous = digest


def command_demo(args: argparse.Namespace) -> int:
    """The whole flow on this machine against an embedded sandbox."""
    from bot.sandbox.demo import run_demo

    return asyncio.run(run_demo(language=args.language))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `liaison-bot` script."""
    parser = argparse.ArgumentParser(prog="liaison-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling)").set_defaults(func=command_run)
    demo = sub.add_parser("demo", help="scripted flow against a local sandbox")
    demo.add_argument("--language", choices=("en", "id"), default="en")
    demo.set_defaults(func=command_demo)
    check = sub.add_parser("check", help="validate configuration and roster")
    check.add_argument("--days", type=int, default=3)
    check.set_defaults(func=command_check)
    export = sub.add_parser("export", help="tickets and history to stdout")
    export.add_argument("--since", help="YYYY-MM-DD (local date)")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.set_defaults(func=command_export)
    verify = sub.add_parser("verify", help="check a JSON export (offline)")
    add_verify_arguments(verify)
    verify.set_defaults(func=command_verify)
    stats = sub.add_parser("stats", help="the /stats figures in the terminal")
    stats.add_argument("--days", type=int, default=7)
    stats.set_defaults(func=command_stats)
    backup = sub.add_parser("backup", help="a checked copy of the database while it runs")
    backup.add_argument("path", help="where the copy goes")
    backup.set_defaults(func=command_backup)
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except (ConfigError, RosterError) as exc:
        code = _fail(str(exc))
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
