"""HeartbeatReporter against a real control plane on loopback that records what it is sent."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from healthwatch.aio.backoff import Backoff
from healthwatch.health.heartbeat import HeartbeatReporter
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.serializers import ServiceInfo
from tests.integration.health.netkit import Serve, fetch, free_port, wait_for

INFO = ServiceInfo(
    service="orders", instance="pod-7", version="2.4.1", commit="abc123", cluster_id="eu-1"
)


class ControlPlane:
    """Records heartbeat POSTs (body, headers, arrival) and answers each with ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.posts: list[tuple[float, dict[str, str], dict[str, Any]]] = []
        plane = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                plane.posts.append((time.monotonic(), headers, json.loads(body)))
                self.send_response(plane.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/heartbeats"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, _, body in self.posts]


@pytest.fixture
def plane() -> Iterator[ControlPlane]:
    control = ControlPlane()
    control.thread.start()
    yield control
    control.server.shutdown()
    control.server.server_close()
    control.thread.join(timeout=5)


def test_payload_fields(ready: HealthRegistry, plane: ControlPlane) -> None:
    reporter = HeartbeatReporter(ready, plane.url, info=INFO, headers={"Authorization": "Bearer t"})
    before = time.time()
    assert reporter.send_once() is True
    [(_, headers, body)] = plane.posts
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == "Bearer t"
    assert {k: body[k] for k in ("instance", "cluster_id", "version", "commit")} == {
        "instance": "pod-7",
        "cluster_id": "eu-1",
        "version": "2.4.1",
        "commit": "abc123",
    }
    started = datetime.fromisoformat(body["started_at"].replace("Z", "+00:00")).timestamp()
    assert started == pytest.approx(ready.started_at, abs=1e-3)
    assert 0 <= body["uptime_seconds"] <= time.time() - ready.started_at + 0.01
    assert body["uptime_seconds"] >= before - ready.started_at - 0.01
    assert set(body["components"]) == {"db", "cache"}
    assert body["components"]["db"]["status"] == "healthy"
    assert body["components"]["db"]["message"] == "pool 4/10"  # the control plane sees details
    assert body["service"]["name"] == "orders"
    assert (reporter.stats.sent, reporter.stats.failed, reporter.stats.last_status) == (1, 0, 200)


def test_a_heartbeat_never_runs_a_check(ready: HealthRegistry, plane: ControlPlane) -> None:
    calls: list[float] = []

    def counted() -> bool:
        calls.append(time.monotonic())
        return True

    ready.register("slow", counted)
    assert HeartbeatReporter(ready, plane.url, info=INFO).send_once()
    assert calls == []
    assert plane.bodies[0]["components"]["slow"]["status"] == "unknown"


def test_failures_are_counted_and_never_touch_the_probes(
    ready: HealthRegistry, plane: ControlPlane, serve: Serve
) -> None:
    server = serve(HealthRoutes(ready))
    reporter = HeartbeatReporter(ready, plane.url, info=INFO)
    plane.status = 500
    assert reporter.send_once() is False
    assert (reporter.stats.failed, reporter.stats.last_status, reporter.stats.last_error) == (
        1,
        500,
        "HTTP 500",
    )
    refused = HeartbeatReporter(ready, f"http://127.0.0.1:{free_port()}/hb", info=INFO)
    assert refused.send_once() is False
    assert refused.stats.failed == 1
    assert "refused" in refused.stats.last_error.lower()
    assert fetch(server.address, "/readyz").status == 200
    assert fetch(server.address, "/livez").status == 200
    assert set(ready.report().probes) == {"liveness", "readiness", "startup"}
    plane.status = 204
    assert reporter.send_once() is True
    assert (reporter.stats.sent, reporter.stats.failed, reporter.stats.last_error) == (1, 1, "")


def test_a_control_plane_answering_garbage_is_a_failure(ready: HealthRegistry) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_garbage() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        thread = threading.Thread(target=answer_garbage)
        thread.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hb"
        reporter = HeartbeatReporter(ready, url, info=INFO, timeout=2)
        assert reporter.send_once() is False
        thread.join(timeout=5)
    assert reporter.stats.failed == 1
    assert reporter.stats.last_error


def test_running_reporter_backs_off_then_recovers(
    ready: HealthRegistry, plane: ControlPlane
) -> None:
    plane.status = 503
    backoff = Backoff(initial=0.03, maximum=10.0, jitter=0.0)
    reporter = HeartbeatReporter(
        ready, plane.url, info=INFO, interval=5.0, jitter=0.0, backoff=backoff
    )
    reporter.start()
    try:
        assert wait_for(lambda: len(plane.posts) >= 4, timeout=3)
        plane.status = 200
        assert wait_for(lambda: reporter.stats.sent == 1, timeout=3)
        time.sleep(0.2)  # after a success the next send is a full interval (5 s) away
        assert reporter.stats.sent == 1
    finally:
        started = time.monotonic()
        reporter.stop()
        assert time.monotonic() - started < 1
    arrivals = [at for at, _, _ in plane.posts]
    gaps = [later - earlier for earlier, later in pairwise(arrivals)]
    assert gaps[0] >= 0.03
    assert all(b > a * 1.4 for a, b in pairwise(gaps[:3])), gaps  # 0.03 s, 0.06 s, 0.12 s
    assert reporter.stats.failed >= 4
    assert backoff.failures == 0  # the success reset it


def test_running_reporter_sends_every_interval(ready: HealthRegistry, plane: ControlPlane) -> None:
    reporter = HeartbeatReporter(
        ready,
        plane.url,
        info=INFO,
        interval=0.1,
        jitter=0.2,
        rng=random.Random(7),  # noqa: S311 - jitter
    )
    reporter.start()
    try:
        assert wait_for(lambda: len(plane.posts) >= 3, timeout=3)
    finally:
        reporter.stop()
    count = len(plane.posts)
    arrivals = [at for at, _, _ in plane.posts]
    assert all(0.07 <= b - a <= 0.5 for a, b in pairwise(arrivals))  # 0.1 s ± 20 %
    time.sleep(0.25)
    assert len(plane.posts) == count  # stopped means stopped


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hb",
        "127.0.0.1:8080/hb",
        "http://",
        "http:///hb",
        "http://127.0.0.1:abc/hb",
        "http://127.0.0.1:99999/hb",
        "http://[::1/hb",
    ],
)
def test_invalid_urls_raise_value_error(ready: HealthRegistry, url: str) -> None:
    with pytest.raises(ValueError, match="heartbeat URL"):
        HeartbeatReporter(ready, url, info=INFO)


@pytest.mark.parametrize(
    ("interval", "timeout", "jitter"),
    [(0.0, 5.0, 0.1), (-1.0, 5.0, 0.1), (30.0, 0.0, 0.1), (30.0, 5.0, 1.0), (30.0, 5.0, -0.1)],
)
def test_invalid_settings_raise_value_error(
    ready: HealthRegistry, plane: ControlPlane, interval: float, timeout: float, jitter: float
) -> None:
    with pytest.raises(ValueError, match="heartbeat needs"):
        HeartbeatReporter(
            ready, plane.url, info=INFO, interval=interval, timeout=timeout, jitter=jitter
        )
