"""The health endpoints as one function from request to response.

The standalone server, the ASGI, WSGI and aiohttp adapters all call
:meth:`HealthRoutes.handle`, so every route behaves the same wherever it is
mounted. Routes: ``/livez`` (and ``/healthz``), ``/readyz``, ``/startupz``,
``/<probe>z/<member>``, ``/health``, ``/components/<name>`` and, when enabled,
``/metrics``. GET and HEAD only; every answer carries ``Cache-Control: no-store``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, unquote

from healthwatch.health.groups import LIVENESS, READINESS, STARTUP
from healthwatch.health.metrics import health_families, render_text
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.serializers import (
    ServiceInfo,
    component_json,
    dumps,
    health_json,
    probe_json,
    report_json,
    verbose_text,
)

__all__ = ["DetailAccess", "DetailMode", "HealthRoutes", "Request", "Response"]

PROBE_BODY_LIMIT = 10 * 1024
MAX_QUERY = 2048
MAX_PATH = 1024
_PROBES = {"/livez": LIVENESS, "/healthz": LIVENESS, "/readyz": READINESS, "/startupz": STARTUP}
_JSON = "application/json"
_HEALTH_JSON = "application/health+json"
_TEXT = "text/plain; charset=utf-8"


class DetailMode(StrEnum):
    """Who may see messages and metadata (names and states are always shown)."""

    LOOPBACK = "loopback"
    """Callers on the loopback interface, or holding the token."""
    ALWAYS = "always"
    """Everyone."""
    NEVER = "never"
    """Only callers holding the token."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DetailAccess:
    """The rule deciding whether a caller sees details."""

    mode: DetailMode = DetailMode.LOOPBACK
    token: str | None = None
    """A bearer token (``Authorization: Bearer …``) that always grants details."""

    def allows(self, client: str | None, headers: Mapping[str, str]) -> bool:
        """Whether this caller may see messages and metadata."""
        if self.token:
            import hmac  # noqa: PLC0415 - only registries with a token pay for hashlib

            supplied = headers.get("authorization", "")
            if hmac.compare_digest(supplied.encode(), f"Bearer {self.token}".encode()):
                return True
        if self.mode is DetailMode.ALWAYS:
            return True
        if self.mode is DetailMode.LOOPBACK and client:
            try:
                return ipaddress.ip_address(client.split("%")[0]).is_loopback
            except ValueError:
                return False
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """What the routes need of an HTTP request."""

    method: str
    path: str
    """Path without the query string, still percent-encoded."""
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header names in lower case."""
    client: str | None = None
    """The peer's IP address, if known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """What to send back."""

    status: int
    body: bytes
    content_type: str = _TEXT
    headers: tuple[tuple[str, str], ...] = ()

    def all_headers(self) -> list[tuple[str, str]]:
        """Content type, length, no-store and the extra headers."""
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            *self.headers,
        ]


def _text(status: int, text: str, *headers: tuple[str, str]) -> Response:
    return Response(status=status, body=text.encode(), headers=headers)


def _json(status: int, data: object, content_type: str = _JSON) -> Response:
    return Response(status=status, body=dumps(data), content_type=content_type)


class HealthRoutes:
    """Maps health requests to responses for one registry."""

    def __init__(
        self,
        registry: HealthRegistry,
        *,
        access: DetailAccess | None = None,
        info: ServiceInfo | None = None,
        metrics: bool = False,
    ) -> None:
        self.registry = registry
        self.access = access or DetailAccess()
        self.info = info
        self.metrics = metrics

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises for bad input."""
        if request.method not in ("GET", "HEAD"):
            return _text(405, "method not allowed: use GET or HEAD\n", ("Allow", "GET, HEAD"))
        if len(request.path) > MAX_PATH or len(request.query) > MAX_QUERY:
            return _text(414, "request URI too long\n")
        try:
            query = parse_qs(request.query, keep_blank_values=True, max_num_fields=32)
        except ValueError:
            return _text(400, "malformed or oversized query string\n")
        try:
            path = unquote(request.path, errors="strict")
        except UnicodeDecodeError:
            return _text(400, "path is not valid UTF-8\n")
        if "\x00" in path:
            return _text(400, "path contains a NUL byte\n")
        details = self.access.allows(request.client, request.headers)
        accept = request.headers.get("accept", "")
        if path in _PROBES:
            return self._probe(_PROBES[path], query, details=details, accept=accept)
        if path == "/health":
            return self._health(details=details, accept=accept)
        if path.startswith("/components/"):
            return self._component(path.removeprefix("/components/"), details=details)
        if path == "/metrics" and self.metrics:
            body = render_text(health_families(self.registry.report(probes=())))
            return Response(
                status=200, body=body.encode(), content_type="text/plain; version=0.0.4"
            )
        head, _, member = path.partition("/")[2].partition("/")
        if member and f"/{head}" in _PROBES:
            return self._member(_PROBES[f"/{head}"], member, details=details)
        return _text(404, "not found\n")

    def _probe(
        self, probe: str, query: Mapping[str, list[str]], *, details: bool, accept: str
    ) -> Response:
        exclude = frozenset(query.get("exclude", ()))
        report = self.registry.report(probes=(probe,), exclude=exclude)
        verdict = report.probes[probe]
        code = 200 if verdict.passed else 503
        if _JSON in accept and "verbose" not in query:
            body = probe_json(verdict, details=details, limit=PROBE_BODY_LIMIT)
            return Response(status=code, body=body, content_type=_JSON)
        statuses = {c.name: c for c in report.components}
        if "verbose" in query or not verdict.passed:
            known = exclude & set(self.registry.members(probe)) if exclude else frozenset()
            text = verbose_text(
                verdict, statuses, details=details, excluded=known, limit=PROBE_BODY_LIMIT
            )
            return _text(code, text)
        return _text(code, "ok\n")

    def _member(self, probe: str, member: str, *, details: bool) -> Response:
        if member not in self.registry.members(probe):
            return _text(404, f"{probe} has no member of that name\n")
        report = self.registry.report(probes=(probe,))
        verdict = report.probes[probe]
        snap = report.component(member)
        if member not in verdict.failing and snap is not None:
            return _text(200, "ok\n")
        reason = snap.message if details and snap else "reason withheld"
        return _text(503, f"{member} failed: {' '.join(reason.split())[:300]}\n")

    def _health(self, *, details: bool, accept: str) -> Response:
        report = self.registry.report()
        code = report.status.http_code
        if _HEALTH_JSON in accept:
            return _json(code, health_json(report, details=details, info=self.info), _HEALTH_JSON)
        return _json(code, report_json(report, details=details, info=self.info))

    def _component(self, name: str, *, details: bool) -> Response:
        if name not in self.registry:
            return _json(404, {"error": "no such component"})
        snap = self.registry.status(name)
        data: dict[str, Any] = component_json(snap, details=details)
        return _json(200 if snap.status.is_up else 503, data)
