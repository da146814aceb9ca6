"""Liaison bot: tracked, escalated tickets for reported Telegram links."""

import os

# Opt in to PTB's timedelta durations (RetryAfter.retry_after and friends) now, as PTB 22
# asks; without it every 429 also raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
