"""The in-process health library: components, probes, and the endpoints that serve them.

Standard library only, so any Python service can embed it::

    from healthwatch.health import HealthRegistry, HealthRoutes, HealthServer

    registry = HealthRegistry()
    registry.register("db", check=lambda: pool.ping())   # pulled on demand, cached
    registry.update("queue", "degraded", "lagging 40s")  # pushed
    HealthServer(HealthRoutes(registry), port=9801).start()

Framework adapters (ASGI, WSGI, aiohttp, gRPC) live in
``healthwatch.health.adapters`` and are imported only when used. Names below
are imported lazily, on first use, so ``import healthwatch.health`` costs almost
nothing and a service pays only for the parts it uses.
"""

from __future__ import annotations

from healthwatch._lazy import lazy_attributes

TYPE_CHECKING = False  # not imported from typing: keeps `import healthwatch.health` cheap
if TYPE_CHECKING:
    from healthwatch.health.checks import CheckOutcome, CheckPolicy
    from healthwatch.health.groups import LIVENESS, READINESS, STARTUP, UnknownPolicy
    from healthwatch.health.heartbeat import HeartbeatReporter
    from healthwatch.health.metrics import health_families, render_text
    from healthwatch.health.probe import ProbeResult, probe
    from healthwatch.health.registry import DEFAULT_GROUPS, HealthRegistry, UnknownComponentError
    from healthwatch.health.routes import DetailAccess, DetailMode, HealthRoutes, Request, Response
    from healthwatch.health.serializers import ServiceInfo
    from healthwatch.health.server import HealthServer
    from healthwatch.health.state import Thresholds
    from healthwatch.health.watchdog import LoopWatchdog, ThreadWatchdog, watch_event_loop
    from healthwatch.model.health import (
        ComponentStatus,
        HealthReport,
        HealthStatus,
        Lifecycle,
        OverallStatus,
        ProbeVerdict,
        SuppressionWindow,
    )

__all__ = [
    "DEFAULT_GROUPS",
    "LIVENESS",
    "READINESS",
    "STARTUP",
    "CheckOutcome",
    "CheckPolicy",
    "ComponentStatus",
    "DetailAccess",
    "DetailMode",
    "HealthRegistry",
    "HealthReport",
    "HealthRoutes",
    "HealthServer",
    "HealthStatus",
    "HeartbeatReporter",
    "Lifecycle",
    "LoopWatchdog",
    "OverallStatus",
    "ProbeResult",
    "ProbeVerdict",
    "Request",
    "Response",
    "ServiceInfo",
    "SuppressionWindow",
    "ThreadWatchdog",
    "Thresholds",
    "UnknownComponentError",
    "UnknownPolicy",
    "health_families",
    "probe",
    "render_text",
    "watch_event_loop",
]

_LAZY = {
    "ComponentStatus": "healthwatch.model.health",
    "HealthReport": "healthwatch.model.health",
    "HealthStatus": "healthwatch.model.health",
    "Lifecycle": "healthwatch.model.health",
    "OverallStatus": "healthwatch.model.health",
    "ProbeVerdict": "healthwatch.model.health",
    "SuppressionWindow": "healthwatch.model.health",
    "CheckOutcome": "checks",
    "CheckPolicy": "checks",
    "LIVENESS": "groups",
    "READINESS": "groups",
    "STARTUP": "groups",
    "UnknownPolicy": "groups",
    "HeartbeatReporter": "heartbeat",
    "health_families": "metrics",
    "render_text": "metrics",
    "ProbeResult": "probe",
    "probe": "probe",
    "DEFAULT_GROUPS": "registry",
    "HealthRegistry": "registry",
    "UnknownComponentError": "registry",
    "DetailAccess": "routes",
    "DetailMode": "routes",
    "HealthRoutes": "routes",
    "Request": "routes",
    "Response": "routes",
    "ServiceInfo": "serializers",
    "HealthServer": "server",
    "Thresholds": "state",
    "LoopWatchdog": "watchdog",
    "ThreadWatchdog": "watchdog",
    "watch_event_loop": "watchdog",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
