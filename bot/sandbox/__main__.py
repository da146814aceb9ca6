"""``python -m bot.sandbox --port P``: the sandbox Bot API in its own process.

Prints ``sandbox listening on http://127.0.0.1:P`` once it accepts requests and runs until
SIGINT or SIGTERM. Drive it with ``bot.sandbox.client.SandboxClient``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.sandbox.server import Sandbox


def _group_limit(value: str) -> int | None:
    if value.lower() == "none":
        return None
    limit = int(value)
    if limit < 1:
        raise argparse.ArgumentTypeError("the group limit is a positive number or 'none'")
    return limit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default="123456:SANDBOX-token")
    parser.add_argument(
        "--group-limit", type=_group_limit, default=20, help="sends per group per window, or none"
    )
    parser.add_argument("--group-window", type=float, default=60.0, help="seconds")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox(args.token, group_limit=args.group_limit, group_window=args.group_window)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await sandbox.start(port=args.port)
    try:
        print(f"sandbox listening on http://127.0.0.1:{sandbox.port}", flush=True)
        await stop.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
