"""The probe client (Docker HEALTHCHECK, exec probes) against the real standalone server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from healthwatch.health.probe import PROBE_KINDS, probe, probe_url
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.server import HealthServer
from tests.integration.health.netkit import Serve, free_port


@pytest.fixture
def server(ready: HealthRegistry, serve: Serve) -> HealthServer:
    return serve(HealthRoutes(ready))


@pytest.mark.parametrize("kind", sorted(PROBE_KINDS))
def test_kinds_ask_their_path(server: HealthServer, kind: str) -> None:
    result = probe(server.url, kind=kind)
    assert result.url == server.url + PROBE_KINDS[kind]
    assert (result.ok, result.status, result.body, result.error) == (True, 200, "ok\n", "")


def test_base_url_defaults_to_readiness(server: HealthServer) -> None:
    assert probe(server.url).url == server.url + "/readyz"
    assert probe(server.url + "/").url == server.url + "/readyz"
    assert probe(server.url + "/", kind="live").url == server.url + "/livez"


def test_an_explicit_path_is_asked_as_given(ready: HealthRegistry, server: HealthServer) -> None:
    ready.update("db", "unhealthy", "down")
    member = probe(server.url + "/readyz/cache", kind="live")  # the path wins over the kind
    assert (member.url, member.ok, member.status) == (server.url + "/readyz/cache", True, 200)
    failing = probe(server.url + "/readyz/db")
    assert (failing.ok, failing.status, failing.body) == (False, 503, "db failed: down\n")
    verbose = probe(server.url + "/readyz?verbose")
    assert verbose.url == server.url + "/readyz?verbose"
    assert "[-]db failed: down" in verbose.body.splitlines()
    assert probe(server.url + "/nope").status == 404


def test_a_failing_probe_is_not_ok(ready: HealthRegistry, server: HealthServer) -> None:
    ready.drain()
    ready_result = probe(server.url, kind="ready")
    assert (ready_result.ok, ready_result.status, ready_result.error) == (False, 503, "")
    assert ready_result.body.endswith("readyz check failed\n")
    assert probe(server.url, kind="live").ok  # draining keeps liveness up


def test_unreachable_is_not_ok_and_says_why() -> None:
    result = probe(f"http://127.0.0.1:{free_port()}", kind="live", timeout=2)
    assert (result.ok, result.status, result.body) == (False, None, "")
    assert "refused" in result.error.lower()


def test_a_silent_server_times_out(ready: HealthRegistry) -> None:
    with socket.socket() as listener:  # accepts (the kernel does) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        result = probe(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.2)
    assert (result.ok, result.status) == (False, None)
    assert "timed out" in result.error


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A listener that answers any request with a line that is not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=answer)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    thread.join(timeout=5)
    listener.close()


def test_something_that_is_not_http_is_not_ok(garbage_server: str) -> None:
    result = probe(garbage_server, timeout=2)
    assert (result.ok, result.status) == (False, None)
    assert "BadStatusLine" in result.error


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/readyz",
        "127.0.0.1:9801",
        "http://",
        "http:///readyz",
        "http://:9801/readyz",
        "http://127.0.0.1:abc",
        "http://127.0.0.1:99999",
        "http://[::1",
        "",
    ],
)
def test_invalid_urls_raise_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="probe URL"):
        probe_url(url)
    with pytest.raises(ValueError, match="probe URL"):
        probe(url)


@pytest.mark.parametrize("kind", ["bogus", "readyz", "LIVE", ""])
def test_invalid_kind_raises_value_error(server: HealthServer, kind: str) -> None:
    with pytest.raises(ValueError, match="probe kind"):
        probe(server.url, kind=kind)
