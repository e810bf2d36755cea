"""Fixtures: a registry closed after the test, and standalone servers stopped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.server import HealthServer
from tests.integration.health.netkit import Serve


@pytest.fixture
def registry() -> Iterator[HealthRegistry]:
    """A fresh registry on the system clock."""
    reg = HealthRegistry()
    yield reg
    reg.close()


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start ``HealthServer(routes, host="127.0.0.1", port=0)``; every one is stopped at the end."""
    servers: list[HealthServer] = []

    def start(
        routes: HealthRoutes, *, max_connections: int = 256, request_timeout: float = 10.0
    ) -> HealthServer:
        server = HealthServer(
            routes,
            host="127.0.0.1",
            port=0,
            max_connections=max_connections,
            request_timeout=request_timeout,
        )
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def ready(registry: HealthRegistry) -> HealthRegistry:
    """The registry with two healthy readiness components (so startup has passed)."""
    for name, message in (("db", "pool 4/10"), ("cache", "hit rate 0.93")):
        registry.register(name)
        registry.update(name, "healthy", message)
    return registry
