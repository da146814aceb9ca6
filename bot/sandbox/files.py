"""Documents as Telegram delivers them, `getFile`, and the file download URL.

A user posts a document: the bot gets a message with `document` (file_id, file_unique_id,
file_name, mime_type, file_size) and the caption. `getFile` answers a `file_path`, or, for a
file over 20 MB, Telegram's "Bad Request: file is too big". The bytes are then served at
`<base>/file/bot<token>/<file_path>` (what PTB builds from the bot's `base_file_url`).
"""

from __future__ import annotations

import itertools

from aiohttp import web

from bot.sandbox.faults import ApiError, _bad
from bot.sandbox.records import JSON
from bot.sandbox.world import World

# bots may download files up to 20 MB (larger ones need a local Bot API server)
MAX_DOWNLOAD = 20 * 1024 * 1024


class FileMethods(World):
    """Posting documents, getFile and the file download route."""

    _files: dict[str, tuple[str, bytes]]  # file_id -> (file_unique_id, content); set by Sandbox
    _file_paths: dict[str, str]  # file_path -> file_id
    _documents = itertools.count(1)
    token: str

    def post_document(
        self,
        chat_id: int,
        user_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str = "",
        file_size: int | None = None,
    ) -> JSON:
        """A user posts a document (with an optional caption); `file_size` may claim more
        than `content` holds, as for a file too big to keep in a test."""
        n = next(self._documents)
        file_id = f"BQACAgSandboxDoc{n}"
        unique = f"AgADSbxDoc{n}"
        self._files[file_id] = (unique, content)
        message = self._new_message(chat_id, user_id)
        document: JSON = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": file_name,
            "file_size": len(content) if file_size is None else file_size,
        }
        if mime_type:
            document["mime_type"] = mime_type
        message["document"] = document
        self._sizes[file_id] = document["file_size"]
        self._add_caption(message, caption, None)
        return self._push_message(message)

    _sizes: dict[str, int]  # file_id -> the size Telegram reports; set by Sandbox
    downloads = 0  # files served (a test waits for the bot to have fetched one)

    async def _get_file(self, params: JSON) -> JSON:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or file_id not in self._files:
            raise _bad("wrong file_id or the file is temporarily unavailable")
        size = self._sizes[file_id]
        if size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        unique, _ = self._files[file_id]
        path = f"documents/file_{unique}"
        self._file_paths[path] = file_id
        return {"file_id": file_id, "file_unique_id": unique, "file_size": size, "file_path": path}

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the bytes, as Telegram's file server gives them."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None:
            return web.Response(status=404, text="Not Found")
        self.downloads += 1
        self._activity.fire()
        return web.Response(body=self._files[file_id][1])


__all__ = ["MAX_DOWNLOAD", "ApiError", "FileMethods"]
