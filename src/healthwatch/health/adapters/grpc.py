"""gRPC health checking protocol v1 (``grpc.health.v1.Health``): Check, Watch and List.

gRPC service names map to probe groups: ``""`` (the server as a whole) and
``readiness`` to readiness, ``liveness`` and ``startup`` to theirs, every named
group to itself, and any extra names the caller maps. A group that passes is
SERVING, one that fails NOT_SERVING. Watch streams are driven by the
registry's change listeners: each change is pushed to the watchers, and a
watcher sends a message only when its service's status actually changed.

Needs the ``grpc`` extra (``grpcio`` and ``grpcio-health-checking``).
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator, Mapping
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from healthwatch.health.groups import LIVENESS, READINESS, STARTUP
from healthwatch.health.registry import HealthRegistry

__all__ = ["HealthServicer", "add_health_servicer"]

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
_UNKNOWN_SERVICE = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
_WATCH_QUEUE = 64


class HealthServicer(health_pb2_grpc.HealthServicer):  # type: ignore[misc]
    """The Health service backed by a :class:`HealthRegistry`."""

    def __init__(
        self,
        registry: HealthRegistry,
        *,
        services: Mapping[str, str] | None = None,
        poll: float = 1.0,
    ) -> None:
        self.registry = registry
        self.extra = dict(services or {})
        self.poll = poll

    def _services(self) -> dict[str, str]:
        mapping = {"": READINESS, LIVENESS: LIVENESS, READINESS: READINESS, STARTUP: STARTUP}
        mapping.update({group: group for group in self.registry.groups})
        mapping.update(self.extra)
        return mapping

    def _status(self, service: str) -> int:
        group = self._services().get(service)
        if group is None:
            return int(_UNKNOWN_SERVICE)
        verdict = self.registry.report(probes=(group,)).probes.get(group)
        return int(_SERVING if verdict is not None and verdict.passed else _NOT_SERVING)

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        """Unary status of one service; NOT_FOUND for a service we do not know."""
        status = self._status(request.service)
        if status == _UNKNOWN_SERVICE:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    def List(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        """Status of every known service."""
        del request, context
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=self._status(name))
                for name in self._services()
            }
        )

    def Watch(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802 - gRPC method name
        """Stream the service's status now and after every change, until the client leaves."""
        changes: queue.Queue[None] = queue.Queue(maxsize=_WATCH_QUEUE)

        def wake() -> None:
            with contextlib.suppress(queue.Full):  # a wake-up is already pending: enough
                changes.put_nowait(None)

        remove = self.registry.add_listener(wake)
        context.add_callback(wake)  # client gone: wake the loop so it can finish
        try:
            last: int | None = None
            while context.is_active():
                status = self._status(request.service)
                if status != last:
                    last = status
                    yield health_pb2.HealthCheckResponse(status=status)
                # Also re-check on a timer: a status that goes stale changes without a push.
                with contextlib.suppress(queue.Empty):
                    changes.get(timeout=self.poll)
        finally:
            remove()


def add_health_servicer(
    server: grpc.Server, registry: HealthRegistry, **kwargs: Any
) -> HealthServicer:
    """Create a :class:`HealthServicer` and add it to a gRPC server."""
    servicer = HealthServicer(registry, **kwargs)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    return servicer
