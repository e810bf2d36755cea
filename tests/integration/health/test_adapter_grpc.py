"""gRPC health v1 (Check, Watch, List) on a real grpc.server and channel over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from healthwatch.health.adapters.grpc import add_health_servicer
from healthwatch.health.groups import LIVENESS, READINESS
from healthwatch.health.registry import HealthRegistry

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
PUSH = 0.5
"""A Watch must see a change this fast: pushed, not found by the (30 s) re-check timer."""


@pytest.fixture
def stub(ready: HealthRegistry) -> Iterator[Any]:
    """A Health stub on a channel to a server whose Watch re-checks only every 30 s."""
    ready.add_group("payments")
    ready.add_member("payments", "db")
    with ThreadPoolExecutor(max_workers=8) as pool:
        server = grpc.server(pool)
        add_health_servicer(server, ready, services={"orders.v1.Orders": READINESS}, poll=30.0)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            yield health_pb2_grpc.HealthStub(channel)
        finally:
            channel.close()
            server.stop(grace=None).wait(5)  # a Watch still open must end with it


def check(stub: Any, service: str) -> int:
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(response.status)


@pytest.mark.parametrize("service", ["", "readiness", "liveness", "startup", "payments"])
def test_check_serving(stub: Any, service: str) -> None:
    assert check(stub, service) == SERVING


def test_check_follows_the_components(ready: HealthRegistry, stub: Any) -> None:
    ready.update("db", "unhealthy", "down")
    statuses = {
        s: check(stub, s) for s in ("", READINESS, "orders.v1.Orders", "payments", LIVENESS)
    }
    assert statuses == {
        "": NOT_SERVING,
        READINESS: NOT_SERVING,
        "orders.v1.Orders": NOT_SERVING,
        "payments": NOT_SERVING,
        LIVENESS: SERVING,  # a dependency never fails liveness
    }


def test_check_unknown_service_is_not_found(stub: Any) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        check(stub, "no.such.Service")
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "no.such.Service" in error.details()


def test_list_returns_every_service(ready: HealthRegistry, stub: Any) -> None:
    ready.drain()
    response = stub.List(health_pb2.HealthListRequest(), timeout=5)
    statuses = {name: int(item.status) for name, item in response.statuses.items()}
    expected = {"", "orders.v1.Orders", *ready.groups}
    assert set(statuses) == expected
    assert statuses[""] == statuses[READINESS] == statuses["orders.v1.Orders"] == NOT_SERVING
    assert statuses[LIVENESS] == SERVING


def test_watch_sees_draining(ready: HealthRegistry, stub: Any) -> None:
    call = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
    try:
        assert next(call).status == SERVING
        started = time.monotonic()
        ready.drain()
        assert next(call).status == NOT_SERVING
        assert time.monotonic() - started < PUSH
    finally:
        call.cancel()


def test_watch_sends_only_transitions(ready: HealthRegistry, stub: Any) -> None:
    call = stub.Watch(health_pb2.HealthCheckRequest(service="payments"), timeout=10)
    try:
        assert next(call).status == SERVING
        ready.update("cache", "degraded", "slow")  # not a member of payments: nothing to send
        ready.update("db", "degraded", "lagging")  # still serving: nothing to send
        ready.update("db", "unhealthy", "down")
        started = time.monotonic()
        assert next(call).status == NOT_SERVING
        ready.update("db", "healthy")
        assert next(call).status == SERVING
        assert time.monotonic() - started < PUSH
    finally:
        call.cancel()


def test_watch_unknown_service_streams_service_unknown(ready: HealthRegistry, stub: Any) -> None:
    call = stub.Watch(health_pb2.HealthCheckRequest(service="later"), timeout=10)
    try:
        assert next(call).status == SERVICE_UNKNOWN
        ready.add_group("later")
        ready.add_member("later", "db")
        ready.update("db", "degraded", "lagging")  # a status change wakes every watcher
        assert next(call).status == SERVING
    finally:
        call.cancel()


def test_watch_sees_a_membership_change(ready: HealthRegistry, stub: Any) -> None:
    ready.update("cache", "unhealthy", "evicted")
    call = stub.Watch(health_pb2.HealthCheckRequest(service="payments"), timeout=PUSH)
    try:
        assert next(call).status == SERVING
        ready.add_member("payments", "cache")  # payments now fails
        assert next(call).status == NOT_SERVING
    finally:
        call.cancel()


def test_cancelled_watch_frees_its_thread(ready: HealthRegistry, stub: Any) -> None:
    calls = [stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10) for _ in range(8)]
    for call in calls:
        assert next(call).status == SERVING
        call.cancel()
    # Eight workers, all of which held a Watch: a Check is answered only if they were freed.
    started = time.monotonic()
    assert check(stub, "") == SERVING
    assert time.monotonic() - started < PUSH
