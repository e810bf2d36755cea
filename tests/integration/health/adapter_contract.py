"""What every HTTP adapter must do, checked over a real socket wherever it is mounted."""

from __future__ import annotations

import json

from healthwatch.health.registry import HealthRegistry
from tests.integration.health.netkit import Address, exchange, fetch, split_response


def assert_adapter_contract(address: Address, prefix: str, registry: HealthRegistry) -> None:
    """Routes answer as the standalone server does; ``registry`` must hold healthy db and cache.

    Leaves the cache unhealthy.
    """

    def get(path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        reply = fetch(address, prefix + path, headers=headers)
        assert reply.headers["cache-control"] == "no-store", path
        return reply.status, dict(reply.headers), reply.body

    for path in ("/livez", "/healthz", "/readyz", "/startupz"):
        assert get(path)[::2] == (200, b"ok\n"), path
    assert get("/readyz/db")[0] == 200
    assert get("/readyz/nope")[0] == 404
    assert fetch(address, prefix + "/nope").status == 404  # the framework's or ours
    status, headers, body = get("/components/db")
    assert (status, headers["content-type"], json.loads(body)["name"]) == (
        200,
        "application/json",
        "db",
    )
    assert json.loads(get("/health")[2])["status"] == "ok"
    _, headers, body = get("/health", Accept="application/health+json")
    assert headers["content-type"] == "application/health+json"
    assert json.loads(body)["checks"]["db"][0]["status"] == "pass"

    registry.update("cache", "unhealthy", "evicted")
    status, _, body = get("/readyz?verbose")
    assert (status, body.decode().splitlines()) == (
        503,
        ["[+]db ok", "[-]cache failed: evicted", "readyz check failed"],
    )
    assert get("/readyz?exclude=cache")[0] == 200
    status, _, body = get("/readyz", Accept="application/json")
    assert (status, json.loads(body)["failing"]) == (503, ["cache"])
    assert get("/components/cache")[0] == 503
    assert get("/components/%63ache")[0] == 503  # decoded once: "cache"
    assert get("/components/%2563ache")[0] == 404  # decoded once: "%63ache"
    assert get("/components/db%00")[0] == 400
    assert get("/components/%ff")[0] == 400
    assert get("/readyz/%00")[0] == 400

    for method in ("POST", "PUT", "DELETE", "PATCH"):
        reply = fetch(address, prefix + "/livez", method=method)
        assert (reply.status, reply.headers["allow"]) == (405, "GET, HEAD"), method
        assert reply.headers["cache-control"] == "no-store"

    request = f"HEAD {prefix}/readyz?verbose HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, head, rest = split_response(exchange(address, request.encode()))
    assert (status, rest, head["cache-control"]) == (503, b"", "no-store")
    assert int(head["content-length"]) == len(fetch(address, prefix + "/readyz?verbose").body)
