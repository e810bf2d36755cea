"""The standalone server over real loopback sockets: routes, status codes, methods, headers."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable

import pytest

from healthwatch.health.groups import LIVENESS, READINESS
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.server import HealthServer
from healthwatch.model.errors import ListenError
from tests.integration.health.netkit import Serve, connect, exchange, fetch, split_response

PROBES = ("/livez", "/healthz", "/readyz", "/startupz")


def test_every_probe_route_answers_ok_when_healthy(ready: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(ready))
    for path in PROBES:
        reply = fetch(server.address, path)
        assert (reply.status, reply.text) == (200, "ok\n"), path
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.headers["cache-control"] == "no-store"


def test_bound_port_is_reported(ready: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(ready))
    host, port = server.address
    assert (host, server.url) == ("127.0.0.1", f"http://127.0.0.1:{port}")
    assert port != 0
    assert fetch((host, port), "/livez").status == 200


def test_health_route_reports_components_and_probes(ready: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(ready))
    reply = fetch(server.address, "/health")
    data = json.loads(reply.body)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert data["status"] == "ok"
    assert set(data["components"]) == {"db", "cache"}
    assert data["components"]["db"]["status"] == "healthy"
    assert {"liveness", "readiness", "startup"} <= set(data["probes"])
    assert all(verdict["passed"] for verdict in data["probes"].values())


def test_component_route(ready: HealthRegistry, serve: Serve) -> None:
    ready.update("cache", "unhealthy", "connection refused")
    server = serve(HealthRoutes(ready))
    db = fetch(server.address, "/components/db")
    assert db.status == 200
    assert json.loads(db.body)["name"] == "db"
    cache = fetch(server.address, "/components/cache")
    assert cache.status == 503
    assert json.loads(cache.body)["status"] == "unhealthy"
    missing = fetch(server.address, "/components/nope")
    assert missing.status == 404
    assert json.loads(missing.body) == {"error": "no such component"}


def test_member_routes(ready: HealthRegistry, serve: Serve) -> None:
    ready.register("loop", lambda: True, groups=(LIVENESS,))
    ready.update("cache", "unhealthy", "connection refused")
    server = serve(HealthRoutes(ready))
    assert fetch(server.address, "/readyz/db").status == 200
    cache = fetch(server.address, "/readyz/cache")
    assert (cache.status, cache.text) == (503, "cache failed: connection refused\n")
    assert fetch(server.address, "/startupz/db").status == 200
    assert fetch(server.address, "/livez/loop").status == 200
    assert fetch(server.address, "/livez/db").status == 404  # not a liveness member
    assert fetch(server.address, "/readyz/nope").status == 404


def _degrade(reg: HealthRegistry) -> None:
    reg.update("db", "degraded", "replica lag 40s")


def _fail(reg: HealthRegistry) -> None:
    reg.update("db", "unhealthy", "connection refused")


def _unstarted(reg: HealthRegistry) -> None:
    reg.register("slow-start")


def _optional_fails(reg: HealthRegistry) -> None:
    reg.register("search", required=False)
    reg.update("search", "unhealthy", "index missing")


def _suppressed(reg: HealthRegistry) -> None:
    _fail(reg)
    reg.suppress(READINESS, 60, "planned failover")


def _standby(reg: HealthRegistry) -> None:
    _fail(reg)
    reg.set_standby(True)


def _drain(reg: HealthRegistry) -> None:
    reg.drain()


def _stop(reg: HealthRegistry) -> None:
    reg.stop()


@pytest.mark.parametrize(
    ("setup", "overall", "codes"),
    [
        (None, "ok", {"/livez": 200, "/readyz": 200, "/startupz": 200, "/health": 200}),
        (_degrade, "degraded", {"/livez": 200, "/readyz": 200, "/startupz": 200, "/health": 200}),
        (_fail, "unhealthy", {"/livez": 200, "/readyz": 503, "/startupz": 200, "/health": 503}),
        (_optional_fails, "degraded", {"/livez": 200, "/readyz": 200, "/health": 200}),
        (_suppressed, "degraded", {"/livez": 200, "/readyz": 200, "/health": 200}),
        (_standby, "degraded", {"/livez": 200, "/readyz": 200, "/health": 200}),
        (_drain, "draining", {"/livez": 200, "/readyz": 503, "/startupz": 200, "/health": 503}),
        (_stop, "stopped", {"/livez": 503, "/readyz": 503, "/startupz": 503, "/health": 503}),
    ],
    ids=[
        "healthy",
        "degraded",
        "unhealthy",
        "optional-unhealthy",
        "suppressed",
        "standby",
        "draining",
        "stopped",
    ],
)
def test_status_codes_follow_the_state(
    ready: HealthRegistry,
    serve: Serve,
    setup: Callable[[HealthRegistry], None] | None,
    overall: str,
    codes: dict[str, int],
) -> None:
    if setup is not None:
        setup(ready)
    server = serve(HealthRoutes(ready))
    got = {path: fetch(server.address, path).status for path in codes}
    assert got == codes
    assert json.loads(fetch(server.address, "/health").body)["status"] == overall


def test_starting_fails_startup_and_readiness_but_not_liveness(
    registry: HealthRegistry, serve: Serve
) -> None:
    _unstarted(registry)
    server = serve(HealthRoutes(registry))
    got = {path: fetch(server.address, path).status for path in (*PROBES, "/health")}
    assert got == {"/livez": 200, "/healthz": 200, "/readyz": 503, "/startupz": 503, "/health": 503}
    assert json.loads(fetch(server.address, "/health").body)["status"] == "starting"
    registry.update("slow-start", "healthy")
    assert fetch(server.address, "/readyz").status == 200


@pytest.mark.parametrize("path", ["/livez", "/readyz?verbose", "/components/db", "/nope"])
def test_head_sends_the_get_headers_without_a_body(
    ready: HealthRegistry, serve: Serve, path: str
) -> None:
    server = serve(HealthRoutes(ready))
    get = fetch(server.address, path)
    request = f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    status, headers, body = split_response(exchange(server.address, request))
    assert status == get.status
    assert body == b""
    assert headers["content-length"] == str(len(get.body))
    assert headers["content-type"] == get.headers["content-type"]
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
def test_other_methods_are_refused(ready: HealthRegistry, serve: Serve, method: str) -> None:
    server = serve(HealthRoutes(ready))
    for path in ("/livez", "/health", "/nope"):
        reply = fetch(server.address, path, method=method)
        assert reply.status == 405, (method, path)
        assert reply.headers["allow"] == "GET, HEAD"
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["connection"] == "close"


def test_a_request_body_is_never_read(ready: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(ready))
    with connect(server.address) as sock:
        sock.sendall(b"POST /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc")
        raw = sock.recv(65536)
        assert split_response(raw)[0] == 405
        sock.settimeout(2)
        assert sock.recv(1) == b""  # closed at once rather than waiting for the body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/livez"),
        ("GET", "/healthz"),
        ("GET", "/readyz?verbose"),
        ("GET", "/startupz"),
        ("GET", "/health"),
        ("GET", "/components/db"),
        ("GET", "/components/nope"),
        ("GET", "/readyz/db"),
        ("GET", "/readyz/nope"),
        ("GET", "/metrics"),
        ("GET", "/livez%00"),
        ("GET", "/livez?" + "q" * 3000),
        ("POST", "/livez"),
    ],
)
def test_every_answer_is_no_store(
    ready: HealthRegistry, serve: Serve, method: str, path: str
) -> None:
    server = serve(HealthRoutes(ready))
    assert fetch(server.address, path, method=method).headers["cache-control"] == "no-store"


def test_keep_alive_connection_serves_several_requests(ready: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(ready))
    conn = http.client.HTTPConnection(*server.address, timeout=5)
    try:
        for path in ("/livez", "/readyz", "/health", "/livez"):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
    finally:
        conn.close()


def test_port_in_use_raises_listen_error_naming_the_address(ready: HealthRegistry) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HealthServer(HealthRoutes(ready), host="127.0.0.1", port=port)
        with pytest.raises(ListenError, match=f"127\\.0\\.0\\.1:{port}") as caught:
            server.start()
        assert caught.value.port == port
        assert "in use" in str(caught.value)
        server.stop()  # nothing bound: a no-op


def _ask_again(conn: http.client.HTTPConnection) -> bytes:
    conn.request("GET", "/livez")
    return conn.getresponse().read()


def test_stop_closes_the_port_and_open_connections(ready: HealthRegistry) -> None:
    server = HealthServer(HealthRoutes(ready), host="127.0.0.1", port=0)
    server.start()
    address = server.address
    conn = http.client.HTTPConnection(*address, timeout=5)
    try:
        conn.request("GET", "/livez")
        assert conn.getresponse().read() == b"ok\n"
        server.stop()
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            _ask_again(conn)
    finally:
        conn.close()
    with pytest.raises(ConnectionRefusedError):
        fetch(address, "/livez")


def test_starting_twice_is_refused_and_a_stopped_server_restarts(ready: HealthRegistry) -> None:
    server = HealthServer(HealthRoutes(ready), host="127.0.0.1", port=0)
    server.start()
    try:
        with pytest.raises(RuntimeError, match="already serving"):
            server.start()
        assert fetch(server.address, "/livez").status == 200
    finally:
        server.stop()
    server.start()  # a stopped listener may serve again
    try:
        assert fetch(server.address, "/livez").status == 200
    finally:
        server.stop()
