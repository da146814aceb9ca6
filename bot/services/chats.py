"""Which chats and people the bot serves, and what it knows of their presence."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.domain.roster import OnCall, Person, backup_at, on_call_at
from bot.notices import ChatMigrated, Leave
from bot.services.base import ServicesBase
from storage import repository as repo

log = logging.getLogger(__package__)  # one logger name for all of bot.services


class ChatsMixin(ServicesBase):
    """Chats, DMs and who is on call."""

    def chat_allowed(self, chat_id: int, chat_type: str, user_id: int | None) -> bool:
        """The bot serves the liaison chat, the supervisor chat and rostered people's DMs."""
        if chat_id in (self.desk.chat_id, self.desk.supervisor_chat_id):
            return True
        if chat_id in self.migrated:
            return True
        if chat_type == "private":
            return user_id is not None and self.is_rostered(user_id)
        return False

    async def on_call(self, now: datetime | None = None) -> tuple[OnCall | None, Person | None]:
        """Who is on call at `now` and who backs them up."""
        at = now or self.clock.now()
        async with self.db.read() as conn:
            overrides = await self.overrides(conn, at)
        return on_call_at(self.roster, overrides, at), backup_at(self.roster, overrides, at)

    def is_own_chat(self, chat_id: int | None) -> bool:
        """One of the configured chats."""
        return self.desk.is_own_chat(chat_id)

    def is_liaison_chat(self, chat_id: int) -> bool:
        """The liaison chat, under its configured id or the supergroup id it moved to."""
        return chat_id == self.desk.chat_id or self.migrated.get(chat_id) == self.desk.chat_id

    async def chat_migrated(self, old_id: int, new_id: int) -> None:
        """A configured group became a supergroup: serve the new id and say how to configure it."""
        self.migrated[new_id] = old_id
        log.error(
            "chat %s became supergroup %s: set LIAISON_%sCHAT_ID=%s and restart",
            old_id,
            new_id,
            "SUPERVISOR_" if old_id == self.desk.supervisor_chat_id else "",
            new_id,
        )
        await self.say(new_id, ChatMigrated(new=new_id))

    async def leave(self, chat_id: int) -> None:
        """Say why, then leave a chat the bot does not serve."""
        async with self.db.transaction() as conn:
            await self._say(conn, chat_id, Leave(), self.clock.now())
        self._on_outbox()

    async def mark_dm(self, user_id: int, is_open: bool) -> None:
        """Someone started the bot (True) or refused a DM (False)."""
        async with self.db.transaction() as conn:
            await repo.mark_dm_open(conn, user_id, is_open, self.clock.now())

    async def mark_in_chat(self, user_ids: Sequence[int], present: bool) -> None:
        """Rostered people joined (True) or left (False) the liaison chat."""
        rostered = [u for u in user_ids if self.is_rostered(u)]
        if not rostered:
            return
        async with self.db.transaction() as conn:
            for user_id in rostered:
                await repo.mark_in_chat(conn, user_id, present)
