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
        """The still-encoded path below the mount point (``root_path``)."""
        raw = scope.get("raw_path")
        path = raw.decode("latin-1").split("?", 1)[0] if raw else encode_path(scope["path"])
        root = scope.get("root_path", "")
        if root:
            prefix = encode_path(root)
            if path.startswith(prefix):
                path = path[len(prefix) :] or "/"
        return path

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
