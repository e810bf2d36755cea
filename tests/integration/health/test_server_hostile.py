"""Hostile and malformed requests: each gets a short, safe answer and the server stays up."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.server import HealthServer
from tests.integration.health.netkit import Address, exchange, fetch, split_response, timed_fetch


@pytest.fixture(scope="module")
def target() -> Iterator[Address]:
    """One server for the module, with a component whose details must never leak."""
    registry = HealthRegistry()
    registry.register("db")
    registry.update("db", "healthy", "pool 4/10")
    with HealthServer(HealthRoutes(registry), host="127.0.0.1", port=0) as server:
        yield server.address
    registry.close()


@pytest.fixture(autouse=True)
def still_up(target: Address) -> Iterator[None]:
    """After every hostile test, a normal client is answered at once."""
    yield
    reply, took = timed_fetch(target, "/livez")
    assert (reply.status, reply.body) == (200, b"ok\n")
    assert took < 0.5


def _raw(
    target: Address, request_line: bytes, *headers: bytes
) -> tuple[int, dict[str, str], bytes]:
    data = (
        request_line
        + b"\r\nHost: x\r\nConnection: close\r\n"
        + b"".join(h + b"\r\n" for h in headers)
    )
    return split_response(exchange(target, data + b"\r\n"))


@pytest.mark.parametrize(
    "path", ["/", "/livezz", "/LIVEZ", "/livez/", "/readyz/", "/components", "/health/x", "/.env"]
)
def test_unknown_paths_are_404(target: Address, path: str) -> None:
    reply = fetch(target, path)
    assert reply.status == 404
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/components/../..",
        "/components/../../etc/passwd",
        "/components/%2e%2e/%2e%2e/etc/passwd",
        "/components/..%2f..%2fhealth",
        "/components/%2E%2E",
        "/readyz/../health",
        "/livez/..%2f..%2fcomponents%2fdb",
        "/components/./db",
        "/components//db",
    ],
)
def test_path_traversal_finds_nothing(target: Address, path: str) -> None:
    reply = fetch(target, path)
    assert reply.status == 404
    assert b"pool 4/10" not in reply.body
    if reply.headers["content-type"] == "application/json":
        assert json.loads(reply.body) == {"error": "no such component"}


def test_encoded_names_are_decoded_once(target: Address) -> None:
    assert fetch(target, "/components/%64%62").status == 200  # "db"
    assert fetch(target, "/components/%2564%2562").status == 404  # "%64%62", not "db"
    assert fetch(target, "/%6civez").status == 200


@pytest.mark.parametrize("path", ["/livez%00", "/components/db%00", "/%00/livez", "/readyz/%00db"])
def test_nul_in_the_path_is_400(target: Address, path: str) -> None:
    reply = fetch(target, path)
    assert reply.status == 400
    assert reply.headers["cache-control"] == "no-store"


def test_raw_nul_byte_in_the_request_line(target: Address) -> None:
    status, _, _ = _raw(target, b"GET /liv\x00ez HTTP/1.1")
    assert status == 400


@pytest.mark.parametrize("path", ["/livez%ff", "/components/%c3%28", "/readyz/%ed%a0%80"])
def test_percent_encoded_invalid_utf8_is_400(target: Address, path: str) -> None:
    assert fetch(target, path).status == 400


@pytest.mark.parametrize("path", ["/livez%zz", "/livez%", "/livez%2", "/components/%g0"])
def test_malformed_percent_escapes_are_not_found(target: Address, path: str) -> None:
    assert fetch(target, path).status == 404


def test_long_query_is_414(target: Address) -> None:
    reply = fetch(target, "/livez?" + "a" * 5000)
    assert reply.status == 414
    assert reply.headers["cache-control"] == "no-store"


def test_long_path_is_414(target: Address) -> None:
    assert fetch(target, "/components/" + "d" * 2000).status == 414


def test_too_many_query_fields_is_400(target: Address) -> None:
    assert fetch(target, "/livez?" + "&".join(f"f{i}=1" for i in range(32))).status == 200
    reply = fetch(target, "/livez?" + "&".join(f"f{i}=1" for i in range(33)))
    assert reply.status == 400
    assert fetch(target, "/readyz?" + "&".join(["exclude=db"] * 40)).status == 400


@pytest.mark.parametrize("query", ["verbose&verbose", "=", "&&&", "exclude", "exclude=%ff", "a=%"])
def test_odd_queries_never_break_a_probe(target: Address, query: str) -> None:
    assert fetch(target, f"/readyz?{query}").status == 200


def test_request_line_beyond_the_stdlib_limit(target: Address) -> None:
    status, headers, _ = _raw(target, b"GET /livez?" + b"a" * 70_000 + b" HTTP/1.1")
    assert status == 414
    assert headers["cache-control"] == "no-store"


def test_huge_header(target: Address) -> None:
    status, headers, _ = _raw(target, b"GET /livez HTTP/1.1", b"X-Big: " + b"a" * 70_000)
    assert status == 431
    assert headers["cache-control"] == "no-store"


def test_too_many_headers(target: Address) -> None:
    status, headers, _ = _raw(target, b"GET /livez HTTP/1.1", *(b"X-%d: 1" % i for i in range(150)))
    assert status == 431
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE", b"GET", b"GET /livez HTTP/9.9", b"GET /livez HTTP/1.x", b"\x16\x03\x01\x02\x00"],
)
def test_malformed_request_lines(target: Address, request_line: bytes) -> None:
    raw = exchange(target, request_line + b"\r\n\r\n")
    status, headers, _ = split_response(raw)
    assert 400 <= status < 600
    assert headers["cache-control"] == "no-store"
