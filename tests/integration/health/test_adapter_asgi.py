"""HealthASGI under a real uvicorn on an OS-chosen port, alone and mounted in Starlette."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from healthwatch.health.adapters.asgi import HealthASGI
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess, DetailMode, HealthRoutes
from tests.integration.health.adapter_contract import assert_adapter_contract
from tests.integration.health.netkit import Address, fetch, wait_for


@contextlib.contextmanager
def uvicorn_serving(app: Any, **options: Any) -> Iterator[Address]:
    """Serve ``app`` with uvicorn from a thread on a loopback socket bound to port 0."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http="h11", ws="none", loop="asyncio", lifespan="on", log_level="warning", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: server.started, timeout=10), "uvicorn did not start"
        host, port = sock.getsockname()[:2]
        yield str(host), int(port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive()


async def home(request: Request) -> PlainTextResponse:
    del request
    return PlainTextResponse("the application")


def _app(registry: HealthRegistry, **kwargs: Any) -> Starlette:
    health = HealthASGI(HealthRoutes(registry, **kwargs))
    return Starlette(routes=[Route("/", home), Mount("/_health", app=health)])


def test_served_alone_by_uvicorn(ready: HealthRegistry) -> None:
    with uvicorn_serving(HealthASGI(HealthRoutes(ready))) as address:  # lifespan "on" too
        assert_adapter_contract(address, "", ready)


def test_mounted_in_starlette_under_uvicorn(ready: HealthRegistry) -> None:
    with uvicorn_serving(_app(ready)) as address:
        assert fetch(address, "/").text == "the application"
        assert_adapter_contract(address, "/_health", ready)
        assert fetch(address, "/livez").status == 404  # only under the mount point
        assert fetch(address, "/_h%65alth/livez").text == "ok\n"  # mount point spelt encoded


def test_mounted_under_a_proxy_root_path(ready: HealthRegistry) -> None:
    # A proxy strips "/svc"; uvicorn puts it back into root_path, path and raw_path.
    with uvicorn_serving(_app(ready), root_path="/svc") as address:
        assert fetch(address, "/_health/readyz").text == "ok\n"
        assert fetch(address, "/_health/components/db").status == 200
        assert fetch(address, "/").text == "the application"


def test_root_path_that_prefixes_a_route_name(ready: HealthRegistry) -> None:
    with uvicorn_serving(HealthASGI(HealthRoutes(ready)), root_path="/live") as address:
        assert fetch(address, "/livez").text == "ok\n"
        assert fetch(address, "/readyz/db").status == 200


def test_details_follow_the_asgi_client_address(ready: HealthRegistry) -> None:
    ready.update("cache", "unhealthy", "evicted")
    with uvicorn_serving(_app(ready)) as address:  # a loopback peer sees details
        assert "[-]cache failed: evicted" in fetch(address, "/_health/readyz?verbose").lines
    never = _app(ready, access=DetailAccess(mode=DetailMode.NEVER))
    with uvicorn_serving(never) as address:
        reply = fetch(address, "/_health/readyz?verbose")
        assert "[-]cache failed: reason withheld" in reply.lines
