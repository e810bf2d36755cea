"""The checks' pages on the web listener: Kuberhealthy's status JSON and our checks API.

``GET /json`` answers in Kuberhealthy v2's shape (``OK``, ``Errors``,
``CheckDetails`` keyed by ``namespace/name``, ``CurrentMaster``), with its
``?namespace=a,b`` filter, so dashboards and scripts written for Kuberhealthy
keep working; it is always 200 (clients read ``OK``) and 400 when the request has a
body, as Kuberhealthy does. ``/api/v1/checks`` lists every check with its latest
result and threshold state; ``/api/v1/checks/{namespace}/{name}/history`` returns
stored results.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from healthwatch.checks.service import CheckService, CheckView
from healthwatch.health.serializers import dumps, iso_time
from healthwatch.model.checks import CheckHistory, CheckResult

__all__ = ["add_check_routes"]


def _go_duration(seconds: float) -> str:
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


def _result(result: CheckResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "ok": result.ok,
        "errors": list(result.errors),
        "run_id": result.run_id,
        "started_at": iso_time(result.started_at),
        "duration_seconds": round(result.duration, 6),
        "attempts": result.attempts,
        "passed_after_retry": result.ok and result.attempts > 1,
        "observations": [
            {"condition": o.condition, "ok": o.ok, "observed": o.observed}
            for o in result.observations
        ],
    }


def _view(view: CheckView) -> dict[str, Any]:
    spec, state = view.spec, view.state
    return {
        "id": spec.id,
        "name": spec.name,
        "namespace": spec.namespace,
        "kind": spec.kind,
        "interval_seconds": spec.interval,
        "timeout_seconds": spec.timeout,
        "conditions": [c.text for c in spec.conditions],
        "labels": dict(spec.labels),
        "latest": _result(view.latest),
        "runs": view.runs,
        "failures": view.failures,
        "consecutive_failures": state.consecutive_failures,
        "alerting": state.alerting,
        "alert_status": view.alert_status,
        "maintenance": view.maintenance,
        "last_success_at": iso_time(state.last_success),
    }


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(
        body=dumps(data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def add_check_routes(
    app: web.Application,
    service: CheckService,
    *,
    node: str,
    history: CheckHistory | None = None,
) -> None:
    """Add ``/json`` and ``/api/v1/checks…`` for ``service`` to ``app``."""

    async def status_page(request: web.Request) -> web.Response:
        if request.can_read_body:
            return _json({"error": "the status page takes no body; reports go to /check"}, 400)
        wanted = {n for n in request.query.get("namespace", "").split(",") if n}
        details: dict[str, Any] = {}
        errors: list[str] = []
        for view in service.views.values():
            spec, latest = view.spec, view.latest
            if latest is None or (wanted and spec.namespace not in wanted):
                continue  # a check that has not run yet is hidden, as in Kuberhealthy
            details[spec.id] = {
                "OK": latest.ok,
                "Errors": list(latest.errors),
                "RunDuration": _go_duration(latest.duration),
                "Namespace": spec.namespace,
                "Node": node,
                "LastRun": iso_time(latest.started_at),
                "AuthoritativePod": node,
                "uuid": latest.run_id,
            }
            errors += latest.errors
        return _json(
            {
                "OK": not errors and all(d["OK"] for d in details.values()),
                "Errors": errors,
                "CheckDetails": details,
                "JobDetails": {},
                "CurrentMaster": node,
                "Metadata": {},
            }
        )

    async def checks(_request: web.Request) -> web.Response:
        return _json({"checks": [_view(v) for v in service.views.values()]})

    async def check_history(request: web.Request) -> web.Response:
        check_id = f"{request.match_info['namespace']}/{request.match_info['name']}"
        view = service.views.get(check_id)
        if view is None:
            return _json({"error": "no such check"}, 404)
        try:
            limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
        except ValueError:
            return _json({"error": "limit must be a whole number"}, 400)
        results: list[CheckResult] = []
        if history is not None:
            results = await history.results(check_id, limit=limit)
        elif view.latest is not None:
            results = [view.latest]
        return _json({"check": _view(view), "results": [_result(r) for r in results]})

    app.router.add_get("/json", status_page)
    app.router.add_get("/api/v1/checks", checks)
    app.router.add_get("/api/v1/checks/{namespace}/{name}/history", check_history)
