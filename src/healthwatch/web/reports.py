"""HTTP endpoints where Kuberhealthy-style checks report in.

Both protocol generations are served (COMPAT decisions): v2's
``POST /externalCheckStatus`` and v3's ``POST /check``, plus
``POST /check/<run-uuid>``, the URL each run is handed, so clients that send no
``kh-run-uuid`` header are identified too. Answers use v3's codes: 405 for
another method, 415 for a body that is not JSON, 413 for a body over
:data:`MAX_REPORT`, 400 without a run uuid, then whatever
:meth:`RunRegistry.submit` says. The body is read with a cap, never whole, and
never echoed back.
"""

from __future__ import annotations

from typing import Final

from aiohttp import hdrs, web

from healthwatch.checks.reports import RunRegistry

__all__ = ["MAX_REPORT", "RUN_UUID_HEADER", "add_report_routes"]

MAX_REPORT: Final = 64 * 1024
"""Largest report body accepted, in bytes; a report is a verdict and a few errors."""
RUN_UUID_HEADER: Final = "kh-run-uuid"
_CHUNK: Final = 16 * 1024


def _answer(status: int, message: str) -> web.Response:
    headers = {hdrs.ALLOW: "POST"} if status == 405 else None
    return web.json_response({"status": status, "message": message}, status=status, headers=headers)


async def _read_capped(request: web.Request, cap: int) -> bytes | None:
    """The body, or None when it is longer than ``cap`` (reading stops there)."""
    if request.content_length is not None and request.content_length > cap:
        return None
    body = bytearray()
    while chunk := await request.content.read(_CHUNK):
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


def add_report_routes(app: web.Application, runs: RunRegistry) -> None:
    """Serve check reports on ``app`` into ``runs``."""

    async def report(request: web.Request) -> web.Response:
        if request.method != hdrs.METH_POST:
            return _answer(405, "reports must be POSTed")
        if request.content_type.lower() != "application/json":
            return _answer(415, "Content-Type must be application/json")
        body = await _read_capped(request, MAX_REPORT)
        if body is None:
            return _answer(413, f"report body is larger than {MAX_REPORT} bytes")
        header_uuid = request.headers.get(RUN_UUID_HEADER)
        run_uuid = request.match_info.get("run_uuid") or header_uuid
        if not run_uuid:
            return _answer(400, f"missing {RUN_UUID_HEADER} header")
        status, message = runs.submit(run_uuid, body, header_uuid=header_uuid)
        return _answer(status, message)

    for path in ("/check", "/check/{run_uuid}", "/externalCheckStatus"):
        app.router.add_route("*", path, report)
