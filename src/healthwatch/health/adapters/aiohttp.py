"""The health routes on an aiohttp application.

``add_health_routes(app, routes)`` adds the health paths to an existing
application (at its root or under a prefix); ``health_app(routes)`` makes a
sub-application for ``app.add_subapp("/_health", ...)``. Handling runs in a
worker thread so a pulled check never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from healthwatch.health.adapters._paths import encode_path
from healthwatch.health.routes import HealthRoutes, Request

__all__ = ["add_health_routes", "health_app"]

Handler = Callable[[web.Request], Awaitable[web.Response]]

_PATTERNS = (
    "/livez",
    "/healthz",
    "/readyz",
    "/startupz",
    "/health",
    "/metrics",
    "/components/{tail:.+}",
    "/{probe:(livez|readyz|startupz)}/{tail:.+}",
)


def add_health_routes(app: web.Application, routes: HealthRoutes, *, prefix: str = "") -> None:
    """Add every health path to ``app`` under ``prefix`` ('' for the root)."""
    prefix = prefix.rstrip("/")
    for pattern in _PATTERNS:
        app.router.add_route("*", prefix + pattern, _handler(routes, pattern.count("/")))


def _handler(routes: HealthRoutes, depth: int) -> Handler:
    """The handler of one pattern, ``depth`` path segments long."""

    async def handler(request: web.Request) -> web.Response:
        ours = Request(
            method=request.method,
            path=_health_path(request, depth),
            query=request.rel_url.raw_query_string,
            headers={k.lower(): v for k, v in request.headers.items()},
            client=request.remote,
        )
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(None, routes.handle, ours)
        headers = {k: v for k, v in response.all_headers() if k != "Content-Length"}
        return web.Response(status=response.status, body=response.body, headers=headers)

    return handler


def _health_path(request: web.Request, depth: int) -> str:
    """The still-encoded path below the mount point.

    The mount point is whatever the matched route has in front of our pattern:
    the ``prefix`` given here, and the prefixes of the sub-applications the
    routes were added to (aiohttp adds those to the routes, not to ``rel_url``).
    Its segments are dropped from the raw path, so the client's encoding survives.
    """
    path = request.rel_url.raw_path
    resource = request.match_info.route.resource
    mounted = resource.canonical.count("/") - depth if resource is not None else 0
    if mounted > 0:
        path = "/" + "/".join(path.split("/")[mounted + 1 :])
    return encode_path(path) if "%" not in path else path


def health_app(routes: HealthRoutes) -> web.Application:
    """A sub-application serving the health paths at its root."""
    app = web.Application()
    add_health_routes(app, routes)
    return app
