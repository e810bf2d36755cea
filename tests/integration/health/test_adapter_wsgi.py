"""HealthWSGI under the standard library's WSGI server on an OS-chosen port."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from healthwatch.health.adapters.wsgi import HealthWSGI, StartResponse
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess, DetailMode, HealthRoutes
from tests.integration.health.adapter_contract import assert_adapter_contract
from tests.integration.health.netkit import Address, fetch

WSGIApp = Any


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@contextlib.contextmanager
def wsgi_serving(app: WSGIApp) -> Iterator[Address]:
    """Serve ``app`` with wsgiref from a thread on 127.0.0.1, port 0."""
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def mounted(health: HealthWSGI, prefix: str) -> WSGIApp:
    """A dispatcher in the manner of werkzeug's DispatcherMiddleware: ``prefix`` → ``health``."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == prefix or path.startswith(prefix + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :]
            return health(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"the application"]

    return app


def test_served_alone(ready: HealthRegistry) -> None:
    with wsgi_serving(HealthWSGI(HealthRoutes(ready))) as address:
        assert_adapter_contract(address, "", ready)


def test_mounted_under_a_prefix(ready: HealthRegistry) -> None:
    with wsgi_serving(mounted(HealthWSGI(HealthRoutes(ready)), "/_health")) as address:
        assert fetch(address, "/").text == "the application"
        assert_adapter_contract(address, "/_health", ready)
        assert fetch(address, "/_health").status == 404  # the mount point itself is no route
        assert fetch(address, "/_health/components/%2e%2e/%2e%2e").status == 404


def test_details_follow_remote_addr(ready: HealthRegistry) -> None:
    ready.update("db", "unhealthy", "connection refused")
    with wsgi_serving(HealthWSGI(HealthRoutes(ready))) as address:
        assert fetch(address, "/readyz/db").text == "db failed: connection refused\n"
    never = HealthWSGI(HealthRoutes(ready, access=DetailAccess(mode=DetailMode.NEVER)))
    with wsgi_serving(never) as address:
        assert fetch(address, "/readyz/db").text == "db failed: reason withheld\n"


def test_non_ascii_component_names_round_trip(registry: HealthRegistry) -> None:
    # Registry names are ASCII; a UTF-8 path must still be decoded exactly once, not crash.
    with wsgi_serving(HealthWSGI(HealthRoutes(registry))) as address:
        reply = fetch(address, "/components/%C3%A9t%C3%A9")
        assert reply.status == 404
        assert reply.headers["content-type"] == "application/json"
