"""Settings from LIAISON_* environment variables or a .env file."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.categories import Categories, PolicyError, builtin_categories, parse_policy
from bot.domain.durations import parse_duration
from bot.domain.tickets import EscalationPolicy, standard_policy


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(str(value))


_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")

Duration = Annotated[timedelta, NoDecode, BeforeValidator(_duration)]


class Settings(BaseSettings):
    """Everything an operator can configure (see .env.example)."""

    model_config = SettingsConfigDict(
        env_prefix="LIAISON_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    # where documents are downloaded from (orders); empty: derived from api_base_url
    api_file_url: str = ""
    chat_id: int | None = None
    supervisor_chat_id: int | None = None
    roster: Path = Path("roster.toml")
    policy_file: Path | None = Field(default=None, validation_alias="LIAISON_POLICY")
    database: Path = Path("liaison.db")
    ack_deadline: Duration = timedelta(minutes=15)
    resolve_deadline: Duration = timedelta(hours=4)
    urgent_deadline: Duration = timedelta(hours=1)
    escalation_repeat: Duration = timedelta(hours=1)
    timezone: str = "Asia/Jakarta"
    language: str = "id"
    evidence_retention: Duration = timedelta(days=180)
    digest_at: Annotated[time | None, NoDecode] = Field(default=time(8, 0))
    ack_reaction: str = "👍"  # a moderator's reaction on a card acknowledges it ("": off)
    notice_topic: int | None = None  # forum topic for notices the bot starts (None: General)
    http_listen: str = "127.0.0.1:9464"  # health and metrics; empty: off
    log_format: str = "text"
    webhook_url: str | None = None  # set: webhook mode; unset: long polling
    webhook_listen: str = "127.0.0.1:8443"  # the webhook server, behind a TLS proxy
    webhook_secret: SecretStr | None = None  # Telegram's secret_token (webhook mode)

    @field_validator(
        "supervisor_chat_id", "notice_topic", "policy_file", "webhook_url", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("id", "en"):
            raise ValueError("must be 'id' or 'en'")
        return value

    @field_validator("digest_at", mode="before")
    @classmethod
    def _digest(cls, value: Any) -> Any:
        if value is None or isinstance(value, time):
            return value
        text = str(value).strip()
        if not text:
            return None
        try:
            hours, minutes = text.split(":")
            return time(int(hours), int(minutes))
        except ValueError as exc:
            raise ValueError("must be HH:MM (or empty for off)") from exc

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and loopback)
        ):
            raise ValueError("must be an https:// URL (Telegram posts only over TLS)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _SECRET_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("http_listen", "webhook_listen")
    @classmethod
    def _listen(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        webhook = info.field_name == "webhook_listen"
        if not value and not webhook:
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            if webhook:
                raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8443")
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:9464 (or empty for off)")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("must be 'text' or 'json'")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @property
    def file_base_url(self) -> str:
        """The Bot API file URL: set, or api_base_url's `…/bot` as `…/file/bot` (Telegram's
        and the sandbox's layout)."""
        if self.api_file_url.strip():
            return self.api_file_url.strip()
        base = self.api_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def require_run(self) -> None:
        """Running (or checking) needs the token and the liaison chat."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError("LIAISON_BOT_TOKEN is required but not set")
        if self.chat_id is None:
            raise ConfigError("LIAISON_CHAT_ID is required but not set")
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ConfigError(
                "LIAISON_WEBHOOK_SECRET is required in webhook mode (LIAISON_WEBHOOK_URL is set)"
            )

    @property
    def token(self) -> str:
        """The bot token (only after require_run)."""
        if self.bot_token is None:
            raise ConfigError("LIAISON_BOT_TOKEN is required but not set")
        return self.bot_token.get_secret_value()

    @property
    def liaison_chat(self) -> int:
        """The liaison chat id (only after require_run)."""
        if self.chat_id is None:
            raise ConfigError("LIAISON_CHAT_ID is required but not set")
        return self.chat_id

    @property
    def zone(self) -> ZoneInfo:
        """The configured display time zone."""
        return ZoneInfo(self.timezone)

    @property
    def policy(self) -> EscalationPolicy:
        """Deadlines as an escalation policy."""
        return standard_policy(
            ack=self.ack_deadline,
            resolve=self.resolve_deadline,
            urgent=self.urgent_deadline,
            repeat=self.escalation_repeat,
            categories=self.categories,
        )

    @property
    def categories(self) -> Categories:
        """The LIAISON_POLICY file's categories, or the built-in table (ConfigError with
        the file's line and the reason when it cannot be used)."""
        if self.policy_file is None:
            return builtin_categories(self.resolve_deadline)
        try:
            text = self.policy_file.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                f"LIAISON_POLICY: cannot read {self.policy_file.name}: {error}"
            ) from None
        try:
            return parse_policy(text, self.resolve_deadline)
        except PolicyError as error:
            raise ConfigError(f"LIAISON_POLICY: {error}") from None


class ConfigError(Exception):
    """A setting is missing or bad: one line naming the variable."""


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    name = "LIAISON_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
    if first["type"] == "missing":
        return f"{name} is required but not set"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}"
