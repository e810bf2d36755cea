"""Who sees messages and metadata: loopback callers, bearer tokens, everyone or no one."""

from __future__ import annotations

import json
import socket

import pytest

from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess, DetailMode, HealthRoutes
from healthwatch.health.server import HealthServer
from tests.integration.health.netkit import Serve, exchange, fetch, split_response

SECRET = "connection refused by 10.1.2.3:5432"
TOKEN = "s3cret-token"


@pytest.fixture
def failing(ready: HealthRegistry) -> HealthRegistry:
    """Ready, then the cache fails with a message that must not leak."""
    ready.update("cache", "unhealthy", SECRET, {"host": "10.1.2.3"})
    return ready


def _everything(server: HealthServer, headers: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every answer that could carry a detail."""
    h = headers or {}
    json_h = {**h, "Accept": "application/json"}
    return {
        "verbose": fetch(server.address, "/readyz?verbose", headers=h).body,
        "plain": fetch(server.address, "/readyz", headers=h).body,
        "json": fetch(server.address, "/readyz", headers=json_h).body,
        "member": fetch(server.address, "/readyz/cache", headers=h).body,
        "health": fetch(server.address, "/health", headers=h).body,
        "health+json": fetch(
            server.address, "/health", headers={**h, "Accept": "application/health+json"}
        ).body,
        "component": fetch(server.address, "/components/cache", headers=h).body,
    }


def _assert_withheld(bodies: dict[str, bytes]) -> None:
    for name, body in bodies.items():
        assert SECRET.encode() not in body, name
        assert b"10.1.2.3" not in body, name
    assert b"[-]cache failed: reason withheld" in bodies["verbose"]
    assert b"[+]db ok" in bodies["verbose"]
    assert bodies["member"] == b"cache failed: reason withheld\n"
    health = json.loads(bodies["health"])
    assert health["details"] == "withheld"
    assert "message" not in health["components"]["cache"]
    assert "metadata" not in health["components"]["cache"]
    assert health["components"]["cache"]["status"] == "unhealthy"  # states are always shown
    assert "reason" not in json.loads(bodies["json"])
    assert "output" not in json.loads(bodies["health+json"])["checks"]["cache"][0]
    assert "message" not in json.loads(bodies["component"])


def _assert_shown(bodies: dict[str, bytes]) -> None:
    assert f"[-]cache failed: {SECRET}".encode() in bodies["verbose"]
    assert bodies["member"] == f"cache failed: {SECRET}\n".encode()
    component = json.loads(bodies["health"])["components"]["cache"]
    assert (component["message"], component["metadata"]) == (SECRET, {"host": "10.1.2.3"})
    assert "cache unhealthy" in json.loads(bodies["json"])["reason"]
    assert json.loads(bodies["health+json"])["checks"]["cache"][0]["output"] == SECRET
    assert json.loads(bodies["component"])["message"] == SECRET


def test_loopback_callers_see_details_by_default(failing: HealthRegistry, serve: Serve) -> None:
    _assert_shown(_everything(serve(HealthRoutes(failing))))


def test_never_withholds_details_even_from_loopback(failing: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(failing, access=DetailAccess(mode=DetailMode.NEVER)))
    _assert_withheld(_everything(server))


def test_bearer_token_grants_details(failing: HealthRegistry, serve: Serve) -> None:
    access = DetailAccess(mode=DetailMode.NEVER, token=TOKEN)
    server = serve(HealthRoutes(failing, access=access))
    _assert_shown(_everything(server, {"Authorization": f"Bearer {TOKEN}"}))


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"bearer  {TOKEN}", f"Basic {TOKEN}", ""],
)
def test_wrong_or_malformed_tokens_grant_nothing(
    failing: HealthRegistry, serve: Serve, authorization: str
) -> None:
    access = DetailAccess(mode=DetailMode.NEVER, token=TOKEN)
    server = serve(HealthRoutes(failing, access=access))
    _assert_withheld(_everything(server, {"Authorization": authorization}))


@pytest.mark.parametrize(
    "value", ["Bearer é€".encode(), b"Bearer \xff\xfe", b"Bearer " + b"t" * 8000]
)
def test_odd_authorization_bytes_are_refused_quietly(
    failing: HealthRegistry, serve: Serve, value: bytes
) -> None:
    access = DetailAccess(mode=DetailMode.NEVER, token=TOKEN)
    server = serve(HealthRoutes(failing, access=access))
    request = b"GET /readyz?verbose HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    raw = exchange(server.address, request + b"Authorization: " + value + b"\r\n\r\n")
    status, _, body = split_response(raw)
    assert status == 503
    assert b"[-]cache failed: reason withheld" in body.splitlines()


def test_always_shows_details(failing: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(failing, access=DetailAccess(mode=DetailMode.ALWAYS)))
    _assert_shown(_everything(server))


def _local_non_loopback_address() -> str | None:
    """An address of this host that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.mark.parametrize(
    ("mode", "shown"), [(DetailMode.LOOPBACK, False), (DetailMode.ALWAYS, True)]
)
def test_callers_off_loopback(failing: HealthRegistry, mode: DetailMode, shown: bool) -> None:
    host = _local_non_loopback_address()
    if host is None:
        pytest.skip("this host has no non-loopback address")
    access = DetailAccess(mode=mode, token=TOKEN)
    with HealthServer(HealthRoutes(failing, access=access), host=host, port=0) as server:
        (_assert_shown if shown else _assert_withheld)(_everything(server))
        _assert_shown(_everything(server, {"Authorization": f"Bearer {TOKEN}"}))
