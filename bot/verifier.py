"""`liaison-bot verify FILE`: an export read from disk and checked on every core.

Standard library only: with nothing but Python 3.11+ and this source tree, the other side
runs `python3 -m bot.verifier export.json` (the same arguments and answers).

A one-ticket-per-line file (`liaison-bot export`) is cut into stretches of about the same
size at line ends; each is hashed and checked in a worker process (`scan_lines`) and the
parts are joined in file order (`judge`). Any other layout (`/export` indents its file)
is read whole in this process. What is reported does not depend on the number of workers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.verify import (
    ExportFormatError,
    Part,
    Verdict,
    judge,
    parse,
    parse_anchor,
    scan,
    scan_lines,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor

STRETCH = 16 * 2**20  # bytes of a file checked by one worker task
ALONE_BELOW = 4 * 2**20  # a smaller file is checked in this process: workers cost more


class CannotCheck(Exception):
    """The check could not run to its end (a worker process died)."""


def cores() -> int:
    """The processors this process may run on."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13
    if count is not None:
        return max(1, count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def one_ticket_per_line(path: Path) -> bool:
    """Whether the file is laid out as `liaison-bot export` writes it: `[`, then a ticket
    on each line."""
    with path.open("rb") as f:
        first = f.readline().removeprefix(b"\xef\xbb\xbf")
        second = f.readline() if first.strip() == b"[" else b""
    body = second.strip()
    return body.startswith(b"{") and body.rstrip(b",").endswith(b"}")


def check_stretch(path: str, start: int, end: int, hashes_only: bool) -> Part:
    """The part of the lines that start in bytes [start, end) of the file."""
    with open(path, "rb") as f:
        if start:
            f.seek(start - 1)
            f.readline()  # the line under way at `start` belongs to the stretch before
        position = f.tell()
        block = f.read(max(0, end - position)) if position < end else b""
        if block and not block.endswith(b"\n"):
            block += f.readline()  # the last line that starts here, to its end
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return scan_lines(lines, first=start == 0, hashes_only=hashes_only)


def _stretches(size: int, count: int) -> list[tuple[int, int]]:
    step = -(-size // count)
    return [(start, min(start + step, size)) for start in range(0, size, step)] or [(0, 0)]


def _parts(path: Path, pool: Executor | None, hashes_only: bool) -> Iterator[Part]:
    if not one_ticket_per_line(path):
        with path.open("rb") as f:
            content = f.read()
        try:
            export = parse(content)
        except ValueError as exc:  # not JSON, not UTF-8
            raise ExportFormatError(f"not a JSON export ({exc})") from None
        yield scan(export, hashes_only)
        return
    size = path.stat().st_size
    spans = _stretches(size, max(1, -(-size // STRETCH)))
    if pool is None:  # one stretch after the other: memory holds one part at a time
        for start, end in spans:
            yield check_stretch(str(path), start, end, hashes_only)
        return
    yield from pool.map(
        check_stretch,
        [str(path)] * len(spans),
        [a for a, _ in spans],
        [b for _, b in spans],
        [hashes_only] * len(spans),
    )


def _in_order(parts: Iterable[Part], which: str) -> Iterator[Part]:
    """The parts up to the one that closes the list; a line that is not a ticket, or a
    list that does not end, raises ExportFormatError (with its line number)."""
    line = 1
    ended = False
    for part in parts:
        if ended:
            continue  # after the closing `]`: not read, as a JSON reader would not
        if part.error is not None:
            number, why = part.error
            raise ExportFormatError(f"{which}line {line + number}: {why}")
        yield part
        line += part.lines
        ended = part.ended
    if not ended:
        raise ExportFormatError(f"{which}the list of tickets does not end (a cut file?)")


def _pool(workers: int) -> Executor:
    """Worker processes (imported here: `liaison-bot run` does not need them at start)."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # fork starts a worker in milliseconds; with other threads running it is not safe
    context: multiprocessing.context.BaseContext
    if sys.platform == "linux" and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context()
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def verify_file(
    path: Path,
    previous: Path | None = None,
    anchors: Sequence[tuple[int, str]] = (),
    jobs: int | None = None,
) -> Verdict:
    """Check an export file (and that `previous`, an older one, is a prefix of it) with
    `jobs` worker processes (default: every core). Raises OSError, ExportFormatError (not
    an export) or CannotCheck."""
    workers = jobs or cores()
    big = path.stat().st_size + (previous.stat().st_size if previous else 0) >= ALONE_BELOW
    from concurrent.futures.process import BrokenProcessPool

    with ExitStack() as stack:
        pool = stack.enter_context(_pool(workers)) if workers > 1 and big else None
        try:
            older = None
            if previous is not None:
                older = _in_order(_parts(previous, pool, hashes_only=True), "--previous: ")
            return judge(_in_order(_parts(path, pool, hashes_only=False), ""), older, anchors)
        except BrokenProcessPool as exc:
            raise CannotCheck(f"a checking process stopped ({exc})") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `verify`."""
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--previous", metavar="OLDER", help="an older export of the same bot")
    parser.add_argument(
        "--anchor", metavar="SEQ:HASH", action="append", default=[], help="a chain head seen"
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: one per core)"
    )


def run(args: argparse.Namespace) -> int:
    """Check, print the verdict: exit 0 (OK), 1 (problems) or 2 (could not check)."""

    def fail(message: str) -> int:
        print(f"liaison-bot: {message}", file=sys.stderr)
        return 2

    if args.jobs is not None and args.jobs < 1:
        return fail("--jobs: a whole number from 1")
    try:
        anchors = [parse_anchor(a) for a in args.anchor]
        older = Path(args.previous) if args.previous else None
        verdict = verify_file(Path(args.file), older, anchors, args.jobs)
    except (OSError, ValueError, CannotCheck) as exc:  # JSONDecodeError, ExportFormatError
        kind = "bad export" if isinstance(exc, ExportFormatError) else "cannot check"
        return fail(f"{kind}: {exc}")
    print(verdict.summary())
    return 0 if verdict.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m bot.verifier FILE …`: `liaison-bot verify` without the bot's packages."""
    parser = argparse.ArgumentParser(
        prog="python3 -m bot.verifier", description="Check a JSON export of the Liaison bot."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
