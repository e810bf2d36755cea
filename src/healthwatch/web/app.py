"""The web application: what the agent shows people and scripts on its main listener.

Read-only. Reports are taken in a worker thread (a pulled check may take up to
its timeout) so the event loop keeps serving. Messages and metadata are shown
to the callers the health :class:`DetailAccess` allows, as on the health listener.
The dashboard (``/`` and the pages under it) is added here; its template engine
is imported only when a web application is built, so an agent without a web
listener never loads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from healthwatch._version import __version__
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess
from healthwatch.health.serializers import ServiceInfo, dumps, report_json
from healthwatch.web.openapi import openapi_document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from healthwatch.checks.service import CheckService
    from healthwatch.exporters.recent import RecentProblems
    from healthwatch.store.history import HistoryStore

__all__ = ["web_app"]

_MAX_REQUEST = 64 * 1024


def _nothing() -> None:
    return None


def web_app(
    registry: HealthRegistry,
    *,
    access: DetailAccess,
    info: ServiceInfo,
    checks: Callable[[], CheckService | None] = _nothing,
    history: Callable[[], HistoryStore | None] = _nothing,
    problems: RecentProblems | None = None,
    refresh_seconds: float = 5.0,
) -> web.Application:
    """Build the web application for one agent.

    ``checks`` and ``history`` are asked on every request (the agent may replace
    them); ``problems`` is the recent-problems exporter the problem pages read.
    """
    from healthwatch.web.dashboard import (  # noqa: PLC0415 - the template engine loads here
        DashboardSources,
        add_dashboard_routes,
    )

    async def health(request: web.Request) -> web.Response:
        details = access.allows(request.remote, {k.lower(): v for k, v in request.headers.items()})
        loop = asyncio.get_running_loop()
        snapshot = await loop.run_in_executor(None, registry.report)
        data = report_json(snapshot, details=details, info=info)
        return _json(data, snapshot.status.http_code)

    async def version(_request: web.Request) -> web.Response:
        return _json({"version": __version__, "node": info.instance}, 200)

    async def openapi(_request: web.Request) -> web.Response:
        return _json(openapi_document(), 200)

    app = web.Application(client_max_size=_MAX_REQUEST)
    app.router.add_get("/api/v1/health", health)
    app.router.add_get("/api/v1/version", version)
    app.router.add_get("/api/openapi.json", openapi)
    add_dashboard_routes(
        app,
        DashboardSources(
            registry=registry,
            access=access,
            info=info,
            checks=checks,
            history=history,
            problems=problems,
            refresh_seconds=refresh_seconds,
        ),
    )
    return app


def _json(data: object, status: int) -> web.Response:
    return web.Response(
        body=dumps(data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
