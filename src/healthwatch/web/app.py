"""The web application: what the agent shows people and scripts on its main listener.

Read-only. Reports are taken in a worker thread (a pulled check may take up to
its timeout) so the event loop keeps serving. Messages and metadata are shown
to the callers the health :class:`DetailAccess` allows, as on the health listener.
"""

from __future__ import annotations

import asyncio
import html

from aiohttp import web

from healthwatch._version import __version__
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess
from healthwatch.health.serializers import ServiceInfo, dumps, report_json
from healthwatch.web.openapi import openapi_document

__all__ = ["web_app"]

_MAX_REQUEST = 64 * 1024


def web_app(
    registry: HealthRegistry, *, access: DetailAccess, info: ServiceInfo
) -> web.Application:
    """Build the web application for one agent."""

    async def report(request: web.Request) -> tuple[dict[str, object], int]:
        details = access.allows(request.remote, {k.lower(): v for k, v in request.headers.items()})
        loop = asyncio.get_running_loop()
        snapshot = await loop.run_in_executor(None, registry.report)
        return report_json(snapshot, details=details, info=info), snapshot.status.http_code

    async def health(request: web.Request) -> web.Response:
        data, code = await report(request)
        return _json(data, code)

    async def version(_request: web.Request) -> web.Response:
        return _json({"version": __version__, "node": info.instance}, 200)

    async def openapi(_request: web.Request) -> web.Response:
        return _json(openapi_document(), 200)

    async def index(request: web.Request) -> web.Response:
        data, code = await report(request)
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(c['status']))}</td>"
            f"<td>{html.escape(str(c.get('message', '')))}</td></tr>"
            for name, c in data["components"].items()  # type: ignore[attr-defined]
        )
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>healthwatch: {html.escape(info.instance)}</title>"
            f"<h1>{html.escape(info.instance)}: {html.escape(str(data['status']))}</h1>"
            "<table><thead><tr><th>component<th>status<th>message</thead>"
            f"<tbody>{rows}</tbody></table>"
            "<p><a href=/api/v1/health>JSON</a> · <a href=/api/openapi.json>API</a></p>"
        )
        return web.Response(
            text=page,
            status=code,
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )

    app = web.Application(client_max_size=_MAX_REQUEST)
    app.router.add_get("/", index)
    app.router.add_get("/api/v1/health", health)
    app.router.add_get("/api/v1/version", version)
    app.router.add_get("/api/openapi.json", openapi)
    return app


def _json(data: object, status: int) -> web.Response:
    return web.Response(
        body=dumps(data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
