"""The health routes as an ASGI application (Starlette, FastAPI, uvicorn, any ASGI server).

Mount it (``app.mount("/_health", HealthASGI(routes))``) or serve it on its own.
Route handling runs in a worker thread, so a pulled check never blocks the
application's event loop. The standalone listener remains the way to stay
answerable while that loop is blocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from healthwatch.health.adapters._paths import encode_path
from healthwatch.health.routes import HealthRoutes, Request

__all__ = ["HealthASGI"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class HealthASGI:
    """An ASGI 3 application serving :class:`HealthRoutes`."""

    def __init__(self, routes: HealthRoutes) -> None:
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(
            method=scope["method"],
            path=self._path(scope),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in scope.get("headers", [])
            },
            client=(scope.get("client") or (None,))[0],
        )
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(None, self.routes.handle, request)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.all_headers()
                ],
            }
        )
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _path(scope: Scope) -> str:
        """The still-encoded path below the mount point (``root_path``).

        The raw path keeps the client's encoding, so it is used when its leading
        segments spell the mount point (however they were encoded); otherwise the
        decoded ``path`` below ``root_path`` is encoded again. Segments, not
        characters, are compared: a root of ``/live`` is not a prefix of ``/livez``.
        """
        root = str(scope.get("root_path", "")).rstrip("/")
        raw: bytes | None = scope.get("raw_path")
        if raw:
            path = raw.decode("latin-1").split("?", 1)[0]
            if not root:
                return path
            parts = path.split("/")
            depth = root.count("/")
            if unquote("/".join(parts[: depth + 1])) == root:
                return "/" + "/".join(parts[depth + 1 :])
        decoded = str(scope["path"])
        if root and (decoded == root or decoded.startswith(root + "/")):
            decoded = decoded[len(root) :]
        return encode_path(decoded or "/")

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
