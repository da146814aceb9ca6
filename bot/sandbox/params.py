"""Request parameters, decoded as Telegram does: query string, form, multipart or JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from bot.sandbox.faults import _bad
from bot.sandbox.records import JSON, Upload

# Form bodies carry every value as a string; these hold JSON, integers or booleans.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "commands",
        "scope",
        "media",
    }
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "from_chat_id",
        "cache_time",
        "message_thread_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "allow_sending_without_reply",
        "drop_pending_updates",
        "disable_web_page_preview",
        "revoke_messages",
    }
)
_INT_TEXT = re.compile(r"-?\d+")


def _int_param(params: JSON, key: str, default: int) -> int:
    value = params.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad(f"invalid {key}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    raise _bad(f"invalid {key}")


def _float_param(params: JSON, key: str, default: float) -> float:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(f"invalid {key}") from None


def _scope_key(params: JSON) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


def _brief(params: JSON) -> str:
    parts = []
    for key, value in params.items():
        shown = repr(value)
        parts.append(f"{key}={shown if len(shown) <= 60 else shown[:57] + '...'}")
    return ", ".join(parts)


def _decode_form_value(key: str, value: str) -> Any:
    if key in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {key} JSON object") from None
    if key in _INT_PARAMS and _INT_TEXT.fullmatch(value):
        return int(value)
    if key in _BOOL_PARAMS and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


async def _read_params(request: web.Request) -> JSON:
    """Query string plus body (form, multipart or JSON), decoded like Telegram does."""
    params: JSON = {k: _decode_form_value(k, v) for k, v in request.query.items()}
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise _bad("JSON request body must be an object")
        params.update(body)
        return params
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        files: dict[str, Upload] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                upload = Upload(value.filename, value.content_type, value.file.read())
                files[key] = upload
                params[key] = upload
            elif isinstance(value, str):
                params[key] = _decode_form_value(key, value)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = files.get(value.removeprefix("attach://"), value)
        return params
    await request.read()
    return params
