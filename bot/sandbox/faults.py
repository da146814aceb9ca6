"""Error answers as Telegram gives them, and the rules for injected faults."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.sandbox.records import JSON

_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: _CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An error answer: HTTP status plus Telegram's description."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _error_for(status: int, description: str | None, retry_after: int) -> ApiError:
    if status == 429:
        return ApiError(
            429,
            description or f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )
    return ApiError(status, description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"))


@dataclass
class _FailRule:
    method: str | None
    status: int
    remaining: int
    retry_after: int
    description: str | None


@dataclass
class _RandomFaults:
    rate: float
    rng: random.Random
    statuses: tuple[int, ...]
    timeout_share: float
    hang: float
    include_get_updates: bool
