"""Health reports rendered for the wire: our JSON, Kubernetes' verbose text, health+json.

Every renderer takes ``details``: when False (a caller not allowed to see
them) messages and metadata are withheld and only names and states remain,
as Kubernetes does with ``reason withheld``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from healthwatch.model.health import ComponentStatus, HealthReport, HealthStatus, ProbeVerdict

__all__ = [
    "PROBE_PATHS",
    "ServiceInfo",
    "component_json",
    "dumps",
    "health_json",
    "iso_time",
    "probe_json",
    "report_json",
    "verbose_text",
    "verdict_json",
]

PROBE_PATHS = {"liveness": "livez", "readiness": "readyz", "startup": "startupz"}
"""The Kubernetes-style word for each built-in probe, used in paths and verbose text."""

WITHHELD = "reason withheld"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceInfo:
    """Who is reporting: shown in health+json and sent with heartbeats."""

    service: str = "healthwatch"
    """Service name (``serviceId`` in health+json)."""
    instance: str = ""
    """Instance name, typically the host or pod name."""
    version: str = ""
    """Release of the service."""
    commit: str = ""
    """Source revision of the service."""
    cluster_id: str = ""
    """Cluster the instance belongs to, if any."""


def iso_time(ts: float | None) -> str | None:
    """Wall time as ISO 8601 UTC with a ``Z``; None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def dumps(data: object) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def component_json(c: ComponentStatus, *, details: bool) -> dict[str, Any]:
    """One component as a JSON object."""
    data: dict[str, Any] = {
        "name": c.name,
        "status": str(c.status),
        "observed_at": iso_time(c.observed_at),
        "changed_at": iso_time(c.changed_at),
        "last_success_at": iso_time(c.last_success_at),
        "last_failure_at": iso_time(c.last_failure_at),
        "consecutive_failures": c.consecutive_failures,
    }
    if c.duration is not None:
        data["duration_seconds"] = round(c.duration, 6)
    if details:
        data["message"] = c.message
        data["metadata"] = dict(c.metadata)
    return data


def verdict_json(v: ProbeVerdict, *, details: bool) -> dict[str, Any]:
    """One probe verdict as a JSON object."""
    data: dict[str, Any] = {
        "passed": v.passed,
        "status": str(v.status),
        "members": list(v.members),
        "failing": list(v.failing),
        "suppressed": [
            {"until": iso_time(w.until), "reason": w.reason if details else WITHHELD}
            for w in v.suppressed
        ],
    }
    if details:
        data["reason"] = v.reason
    return data


def probe_json(v: ProbeVerdict, *, details: bool, limit: int = 10 * 1024) -> bytes:
    """One probe's JSON answer, kept under ``limit`` bytes like the verbose text.

    When every member will not fit, the name lists are cut (failing members
    first), ``members_total`` and ``failing_total`` give the full counts and
    ``truncated`` is true.
    """
    data: dict[str, Any] = {"probe": v.probe, **verdict_json(v, details=details)}
    body = dumps(data)
    if len(body) < limit:
        return body
    data.update(
        members=[],
        failing=[],
        suppressed=data["suppressed"][:4],
        members_total=len(v.members),
        failing_total=len(v.failing),
        truncated=True,
    )
    for window in data["suppressed"]:
        window["reason"] = _one_line(window["reason"])
    if details:
        data["reason"] = _one_line(v.reason)
    budget = limit - len(dumps(data)) - 64
    for key, names in (("failing", v.failing), ("members", v.members)):
        for name in names:
            cost = len(dumps(name)) + 1
            if cost > budget:
                break
            data[key].append(name)
            budget -= cost
    return dumps(data)


def report_json(
    report: HealthReport, *, details: bool, info: ServiceInfo | None = None
) -> dict[str, Any]:
    """The full report, as ``/health`` serves it."""
    data: dict[str, Any] = {
        "status": str(report.status),
        "lifecycle": str(report.lifecycle),
        "standby": report.standby,
        "generated_at": iso_time(report.generated_at),
        "started_at": iso_time(report.started_at),
        "uptime_seconds": round(max(report.generated_at - report.started_at, 0.0), 3),
        "probes": {name: verdict_json(v, details=details) for name, v in report.probes.items()},
        "components": {c.name: component_json(c, details=details) for c in report.components},
    }
    if info is not None:
        data["service"] = {
            "name": info.service,
            "instance": info.instance,
            "version": info.version,
            "commit": info.commit,
            "cluster_id": info.cluster_id,
        }
    if not details:
        data["details"] = "withheld"
    return data


def verbose_text(
    verdict: ProbeVerdict,
    statuses: Mapping[str, ComponentStatus],
    *,
    details: bool,
    excluded: Collection[str] = (),
    limit: int = 10 * 1024,
) -> str:
    """Kubernetes' ``?verbose`` form: ``[+]name ok`` / ``[-]name failed: reason withheld``.

    Kept under ``limit`` bytes: members past it are summarised in one line.
    """
    word = PROBE_PATHS.get(verdict.probe, verdict.probe)
    tail = f"{word} check {'passed' if verdict.passed else 'failed'}\n"
    lines: list[str] = []
    for name in verdict.members:
        snap = statuses.get(name)
        status = snap.status if snap else HealthStatus.UNKNOWN
        if name in verdict.failing:
            reason = (snap.message or str(status)) if details and snap else WITHHELD
            lines.append(f"[-]{name} failed: {_one_line(reason)}")
        elif status is HealthStatus.HEALTHY:
            lines.append(f"[+]{name} ok")
        else:
            lines.append(f"[+]{name} {status}")
    lines += [f"[+]{name} excluded: ok" for name in sorted(excluded)]
    for window in verdict.suppressed:
        lines.append(f"suppressed: {_one_line(window.reason) if details else WITHHELD}")
    out: list[str] = []
    size = len(tail.encode())
    for index, line in enumerate(lines):
        encoded = len(line.encode()) + 1
        if size + encoded > limit - 64:
            out.append(f"… {len(lines) - index} more lines not shown")
            break
        out.append(line)
        size += encoded
    return "\n".join([*out, tail]) if out else tail


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


_HEALTH_JSON_STATUS = {
    HealthStatus.HEALTHY: "pass",
    HealthStatus.DEGRADED: "warn",
    HealthStatus.UNHEALTHY: "fail",
    HealthStatus.UNKNOWN: "fail",
}


def health_json(
    report: HealthReport, *, details: bool, info: ServiceInfo | None = None
) -> dict[str, Any]:
    """The ``application/health+json`` form (status pass/warn/fail, checks keyed by component)."""
    overall = (
        "pass"
        if report.status.value == "ok"
        else ("warn" if report.status.value == "degraded" else "fail")
    )
    checks: dict[str, list[dict[str, Any]]] = {}
    for c in report.components:
        item: dict[str, Any] = {
            "componentId": c.name,
            "status": _HEALTH_JSON_STATUS[c.status],
            "time": iso_time(c.observed_at),
        }
        if details and c.message:
            item["output"] = c.message
        if c.duration is not None:
            item["observedValue"] = round(c.duration * 1000, 3)
            item["observedUnit"] = "ms"
        checks[c.name] = [item]
    data: dict[str, Any] = {"status": overall, "checks": checks}
    if info is not None:
        data.update(
            serviceId=info.service,
            version=info.version.split(".")[0] if info.version else "",
            releaseId=info.version,
        )
    if details:
        data["output"] = str(report.status)
    return data
