"""The tamper-evident record: canonical JSON, event and evidence hashes (pure).

Every event carries `seq` (1, 2, 3 … over the whole database), `prev` (the previous
event's hash, 64 zeros for the first) and `hash`: SHA-256 (hex) of the canonical JSON of
the event as exported plus `ticket`, without `hash`. The canonical JSON is RFC 8785 for
the values an export holds (objects, arrays, strings, integers, true, false, null; no
floating-point numbers): keys sorted, no whitespace, strings with only `"`, `\\` and the
control characters escaped (`\\b \\f \\n \\r \\t`, the others as `\\u00xx`, lower-case
hex), everything else written as itself, encoded as UTF-8.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

ZERO = "0" * 64  # `prev` of the first event
RECEIPT_DIGITS = 8
_MAX_INT = 2**53 - 1  # beyond this RFC 8785 (an IEEE double) would round


def check_value(value: Any) -> None:
    """Raise TypeError or ValueError for what the canonical encoding refuses: floats,
    integers beyond 2**53 - 1 (RFC 8785 writes IEEE doubles), keys that are not strings."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError("object keys must be strings")
            check_value(item)
    elif kind is list or isinstance(value, list | tuple):
        for item in value:
            check_value(item)
    elif isinstance(value, float):
        raise TypeError("no floating-point numbers in a hashed record")
    elif isinstance(value, int) and abs(value) > _MAX_INT:
        raise ValueError(f"integer out of the exact range of RFC 8785: {value}")


def _refuse(value: Any) -> Any:
    raise TypeError(
        f"{value!r} has no canonical JSON (not a string, whole number, true, false, null)"
    )


# Python's encoder with these options writes exactly RFC 8785 for this value domain: ASCII
# keys (code point order is UTF-16 order), integers only, the same escapes. Built once;
# CPython's C encoder is called directly (JSONEncoder.encode builds one per call).
_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_refuse
)


def _c_encoder() -> Callable[[Any], str] | None:
    """The C encoder of CPython with the same options, if this Python has one that writes
    the same as `_encoder` (its arguments are not a public interface)."""
    try:
        from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

        chunks = c_make_encoder(
            None, _refuse, encode_basestring, None, ":", ",", True, False, True
        )
        sample = {"b": [1, None, True], "a": 'é\n\x01"', "c": {"z": -2, "y": {}}}
        if "".join(chunks(sample, 0)) != _encoder.encode(sample):
            return None
    except Exception:
        return None
    return lambda value: "".join(chunks(value, 0))


encode: Callable[[Any], str] = _c_encoder() or _encoder.encode
"""The canonical JSON of a value already checked (see `check_value`), as text."""


def canonical(value: Any) -> bytes:
    """The canonical JSON of a value (see the module text), as UTF-8 bytes."""
    check_value(value)
    return encode(value).encode("utf-8")


def sha256(value: Any) -> str:
    """SHA-256, in hex, of a value's canonical JSON."""
    return hashlib.sha256(canonical(value)).hexdigest()


def instant(stored: str) -> str:
    """An instant as the export writes it (ISO 8601 with offset) from its stored text."""
    return datetime.fromisoformat(stored).isoformat()


def hashed_event(
    *,
    ticket: int | None,
    seq: int,
    prev: str,
    at: str,
    actor_id: int | None,
    kind: str,
    detail: str,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The object whose canonical JSON is hashed: the exported event, `ticket` (None for an
    event of no ticket: an anchor), no `hash`."""
    return {
        "actor_id": actor_id,
        "at": at,
        "data": data,
        "detail": detail,
        "kind": kind,
        "prev": prev,
        "seq": seq,
        "ticket": ticket,
    }


def event_hash(**fields: Any) -> str:
    """The hash of one event (the arguments of `hashed_event`)."""
    return sha256(hashed_event(**fields))


def evidence_hash(
    *,
    text: str | None,
    media: Sequence[str],
    origin: str | None,
    origin_chat_id: int | None,
    origin_message_id: int | None,
    origin_date: str | None,
) -> str:
    """The hash of what intake kept of a report (its canonical JSON with these keys)."""
    return sha256(
        {
            "media": list(media),
            "origin": origin,
            "origin_chat_id": origin_chat_id,
            "origin_date": origin_date,
            "origin_message_id": origin_message_id,
            "text": text,
        }
    )


def receipt(hash_hex: str) -> str:
    """The receipt shown in the chat: the first 8 hex digits of an event's hash."""
    return hash_hex[:RECEIPT_DIGITS]
