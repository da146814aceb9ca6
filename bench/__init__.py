"""`make bench`: the bot and a fake Bot API as separate processes, measured end to end.

Run with ``python -m bench`` (``--help`` for options). The table goes to stdout and to
``BENCHMARKS.md`` at the repository root.
"""
