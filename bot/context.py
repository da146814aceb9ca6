"""The handlers' context and the application type: a leaf that handlers and wiring share.

`BotData` holds the resources opened in post_init; what belongs to one update (its
pending button answers, its storage error) lives on that update's `UpdateScope`, which
the pipeline hands to every context made for the update.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery
from telegram.ext import Application, CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.health import Health
    from bot.rendering import Renderer
    from bot.scheduler import Timer
    from bot.sender import Sender
    from bot.services import Services
    from bot.texts import Buttons


@dataclass
class UpdateScope:
    """What one update's handling collects: answers to send once its effect is committed,
    and the storage error that makes it roll back and be tried again."""

    update_id: int
    storage_error: BaseException | None = None
    # a handler failed for another reason (a bug): the update's writes are undone and it is
    # recorded as handled, so one bad update cannot stop every later one
    failure: BaseException | None = None
    # calls to Telegram that must wait until the update's effect is committed
    answers: list[tuple[CallbackQuery, str | None, bool]] = field(default_factory=list)
    # a pressed message's buttons to swap once the press is committed (None: no buttons)
    keyboards: list[tuple[CallbackQuery, Buttons | None]] = field(default_factory=list)

    def answer_later(self, query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        """Answer a button press once the press's effect is committed: the toast never
        claims what a failed write undid, and the database is not held during the call."""
        self.answers.append((query, text, alert))

    def swap_buttons_later(self, query: CallbackQuery, buttons: Buttons | None) -> None:
        """Edit the pressed message's reply markup to `buttons` after the commit."""
        self.keyboards.append((query, buttons))


@dataclass
class BotData:
    """Typed bot_data: the resources opened in post_init."""

    services_: Services | None = None
    renderer_: Renderer | None = None
    sender_: Sender | None = None
    timer_: Timer | None = None
    health_: Health | None = None  # progress and metrics (bot/health.py), set at build
    settings_: Settings | None = None  # set at build
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # the scope of each update being handled, by update id (the pipeline sets and clears it)
    scopes: dict[int, UpdateScope] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        """The use cases (set in post_init)."""
        if self.services_ is None:
            raise RuntimeError("application not initialised")
        return self.services_

    @property
    def renderer(self) -> Renderer:
        """Rendering of answers (set in post_init)."""
        if self.renderer_ is None:
            raise RuntimeError("application not initialised")
        return self.renderer_


class Context(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The handlers' context type: carries the scope of the update it was made for."""

    @property
    def scope(self) -> UpdateScope:
        """The update's scope (a context made outside the pipeline gets a throwaway one)."""
        found: UpdateScope | None = self.__dict__.get("_scope")
        if found is None:
            found = self.__dict__["_scope"] = UpdateScope(0)
        return found

    @classmethod
    def from_update(cls, update: object, application: Any) -> Context:
        """PTB makes a context per handler call; each is given its update's scope."""
        context = super().from_update(update, application)
        update_id = getattr(update, "update_id", None)
        scope = application.bot_data.scopes.get(update_id)
        if scope is not None:
            context.__dict__["_scope"] = scope
        return context

    @classmethod
    def from_error(
        cls,
        update: object,
        error: Exception,
        application: Any,
        job: Any = None,
        coroutine: Any = None,
    ) -> Context:
        """The error handler's context gets the update's scope too."""
        context = super().from_error(update, error, application, job, coroutine)
        update_id = getattr(update, "update_id", None)
        scope = application.bot_data.scopes.get(update_id)
        if scope is not None:
            context.__dict__["_scope"] = scope
        return context


LiaisonApp = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, Any]
