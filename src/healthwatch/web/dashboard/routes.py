"""The dashboard's routes on the web listener: pages, static files, and the live state.

Every page is rendered on the server and complete without script; a small
script polls ``/api/v1/dashboard`` and updates statuses in place. Answers carry
a Content-Security-Policy that allows nothing from another host (and no inline
script or style), ``nosniff`` and ``no-referrer``; pages are never cached, static
files and the live state are revalidated by ETag; the overview and the live
state are compressed for remote clients that accept it. Unknown checks, problems and
components are a 404 page, whatever the path holds. The health report behind
each page is taken in a worker thread, as for ``/api/v1/health``, because a
pulled check may run.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from ipaddress import ip_address
from typing import Any, Final

from aiohttp import web

from healthwatch.health.serializers import dumps
from healthwatch.model.health import HealthReport
from healthwatch.web.dashboard.checks import RANGES, check_page
from healthwatch.web.dashboard.components import ComponentHistory, component_page
from healthwatch.web.dashboard.context import DashboardSources, Texts
from healthwatch.web.dashboard.history import HistoryCache
from healthwatch.web.dashboard.overview import live_state, overview
from healthwatch.web.dashboard.problems import problem_page
from healthwatch.web.dashboard.render import Renderer

__all__ = ["SECURITY_HEADERS", "DashboardRoutes", "add_dashboard_routes"]

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Sent with every dashboard answer: nothing from another host, no inline code."""
_MAX_NAME: Final = 512


class DashboardRoutes:
    """The handlers of one web application's dashboard."""

    def __init__(self, sources: DashboardSources) -> None:
        self.sources = sources
        self.renderer = Renderer()
        self.changes = ComponentHistory()
        """Component status changes seen since the application started."""
        self.cache = HistoryCache(clock=sources.registry.clock)
        """The overview's drawn uptime bars and sparklines."""

    def add_to(self, app: web.Application) -> None:
        """Register the routes, and the observer and history task for the app's lifetime.

        Path parts match any character but ``/`` (``{`` and newlines included), so
        whatever a path holds, an unknown name gets the dashboard's own 404 page.
        """
        app.cleanup_ctx.append(self._lifetime)
        app.router.add_get("/", self.overview)
        app.router.add_get("/checks/{namespace:[^/]+}/{name:[^/]+}", self.check)
        app.router.add_get("/problems/{source:[^/]+}/{reason:[^/]+}", self.problem)
        app.router.add_get(r"/components/{name:[\s\S]+}", self.component)
        app.router.add_get("/static/{name:[^/]+}", self.static)
        app.router.add_get("/api/v1/dashboard", self.live)

    async def _lifetime(self, _app: web.Application) -> AsyncIterator[None]:
        remove = self.sources.registry.add_observer(self.changes.observe)
        try:
            async with self.cache.running(self.sources.history, self.sources.checks):
                yield
        finally:
            remove()

    # ------------------------------------------------------------ helpers
    def _texts(self, request: web.Request) -> Texts:
        headers = {k.lower(): v for k, v in request.headers.items()}
        return Texts(self.sources.access.allows(request.remote, headers))

    async def _report(self) -> HealthReport:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.sources.registry.report)

    @staticmethod
    def _compressed(request: web.Request, response: web.Response) -> web.Response:
        """Compress for a remote client that accepts it (a big overview gzips ten to one);
        on loopback, compressing would only cost time."""
        try:
            local = request.remote is not None and ip_address(request.remote).is_loopback
        except ValueError:
            local = False
        if not local:
            response.enable_compression()
        return response

    def _page(self, template: str, status: int = 200, **values: Any) -> web.Response:
        body = self.renderer.page(
            template,
            node=self.sources.info.instance,
            refresh=self.sources.refresh_seconds,
            **values,
        )
        return web.Response(
            text=body,
            status=status,
            content_type="text/html",
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )

    def _error(self, status: int, message: str) -> web.Response:
        title = "Not found" if status == 404 else "Bad request"
        return self._page("error.html", status=status, title=title, message=message)

    # ------------------------------------------------------------ pages
    async def overview(self, request: web.Request) -> web.Response:
        """``/``: the node at a glance."""
        report = await self._report()
        await self.cache.for_page(self.sources.history(), self.sources.checks())
        shown = overview(
            self.sources, report, cache=self.cache, history=self.changes, texts=self._texts(request)
        )
        page = self._page("overview.html", o=shown, now=report.generated_at, title="Overview")
        return self._compressed(request, page)

    async def check(self, request: web.Request) -> web.Response:
        """``/checks/{namespace}/{name}``: one check's runs, latency and alerts."""
        check_id = f"{request.match_info['namespace']}/{request.match_info['name']}"
        service = self.sources.checks()
        view = None if service is None else service.views.get(check_id)
        if view is None:
            return self._error(404, "There is no such check on this node.")
        period = request.query.get("period", "1d")
        if period not in RANGES:
            return self._error(400, f"The period is one of {', '.join(RANGES)}.")
        now = self.sources.registry.clock.time()
        shown = await check_page(
            view, self.sources.history(), period=period, now=now, texts=self._texts(request)
        )
        return self._page("check.html", c=shown, now=now, periods=list(RANGES), title=check_id)

    async def problem(self, request: web.Request) -> web.Response:
        """``/problems/{source}/{reason}``: the evidence of one problem."""
        problems = self.sources.problems
        source, reason = request.match_info["source"], request.match_info["reason"]
        shown = None
        if problems is not None and len(source) + len(reason) < _MAX_NAME:
            shown = problem_page(problems, source, reason, texts=self._texts(request))
        if shown is None:
            return self._error(404, "No daemon on this node has reported or declared this problem.")
        now = self.sources.registry.clock.time()
        return self._page("problem.html", p=shown, now=now, title=f"{reason} on {source}")

    async def component(self, request: web.Request) -> web.Response:
        """``/components/{name}``: one component's status, history, groups and windows."""
        name = request.match_info["name"]
        missing = "There is no such component on this node."
        if len(name) > _MAX_NAME or name not in self.sources.registry:
            return self._error(404, missing)
        report = await self._report()
        shown = component_page(
            self.sources.registry, report, self.changes, name, texts=self._texts(request)
        )
        if shown is None:  # deregistered meanwhile
            return self._error(404, missing)
        return self._page("component.html", c=shown, now=report.generated_at, title=name)

    # ------------------------------------------------------------ files and state
    async def static(self, request: web.Request) -> web.Response:
        """``/static/{name}``: the stylesheet, the script and the icon, nothing else."""
        asset = self.renderer.assets.get(request.match_info["name"])
        if asset is None:
            return self._error(404, "There is no such file.")
        headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": "no-cache"}
        if asset.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=asset.body, content_type=asset.content_type, headers=headers)

    async def live(self, request: web.Request) -> web.Response:
        """``/api/v1/dashboard``: what the pages' script updates them with."""
        report = await self._report()
        state = live_state(self.sources, report, history=self.changes, texts=self._texts(request))
        stamp = state.pop("generated_at")
        etag = f'"{hashlib.sha256(dumps(state)).hexdigest()[:16]}"'
        headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        state["generated_at"] = stamp
        response = web.Response(body=dumps(state), content_type="application/json", headers=headers)
        return self._compressed(request, response)


def add_dashboard_routes(app: web.Application, sources: DashboardSources) -> DashboardRoutes:
    """Serve the dashboard for ``sources`` on ``app``."""
    routes = DashboardRoutes(sources)
    routes.add_to(app)
    return routes
