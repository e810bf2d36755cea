"""The service monitor against fake systemctl and runtimes and real loopback health endpoints.

Every command the monitor runs is recorded by the fake programs; the tests
assert the exact argv, which also proves no shell ever saw it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from healthwatch.aio.clock import ManualClock
from healthwatch.detector import Detector
from healthwatch.exporters.prometheus import FamiliesCollector
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.base import ProblemDaemon
from healthwatch.problems.servicemonitor.config import build_service_monitor
from healthwatch.problems.servicemonitor.monitor import ServiceMonitor
from healthwatch.problems.servicemonitor.probes import http_probe
from healthwatch.testing import RecordingExporter
from tests.unit.problems.servicemonitor.fakebin import (
    SHOW,
    WALL,
    FakeHost,
    monitor,
    single,
)


class HealthServer:
    """A loopback HTTP endpoint answering with a status the test sets (or never answering)."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"ok"
        self.silent = False
        self.requests: list[bytes] = []
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        if self.silent:
            await reader.read()  # until the client gives up and closes
        else:
            writer.write(
                f"HTTP/1.1 {self.status} X\r\nContent-Length: {len(self.body)}\r\n\r\n".encode()
                + self.body
            )
            await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    endpoint = HealthServer()
    listener = await asyncio.start_server(endpoint.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    endpoint.url = f"http://127.0.0.1:{port}/healthz"
    yield endpoint
    listener.close()
    await listener.wait_closed()


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    return FakeHost(tmp_path, monkeypatch)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_healthy_kubelet_runs_the_exact_commands(
    host: FakeHost, server: HealthServer
) -> None:
    daemon = monitor(health_url=server.url)
    await daemon.start()
    status = await daemon.poll()
    assert status is not None and status.events == ()
    (condition,) = status.conditions
    assert (condition.type, condition.status, condition.reason) == (
        "KubeletUnhealthy",
        ConditionStatus.FALSE,
        "KubeletIsHealthy",
    )
    assert host.calls() == [[*SHOW, "kubelet.service"]]
    assert len(server.requests) == 1
    assert server.requests[0].startswith(b"GET /healthz HTTP/1.1\r\n")
    assert await daemon.poll() is None  # nothing changed: nothing to report
    assert daemon.health()[0] is HealthStatus.HEALTHY
    families = daemon.metric_families("node-1")
    assert single(families, "up") == 1.0
    assert single(families, "healthy") == 1.0
    assert single(families, "uptime_seconds") == 1000.0
    assert single(families, "polls") == 2.0


async def test_inactive_unit_sets_the_condition_without_probing(
    host: FakeHost, server: HealthServer
) -> None:
    host.show(ActiveState="failed", SubState="failed", MainPID=0)
    daemon = monitor(health_url=server.url)
    status = await daemon.poll()
    assert status is not None
    (condition,) = status.conditions
    assert condition.status is ConditionStatus.TRUE
    assert condition.reason == "KubeletNotActive"
    assert "kubelet.service is failed (failed)" in condition.message
    assert [(e.severity, e.reason) for e in status.events] == [(Severity.WARN, "KubeletNotActive")]
    assert server.requests == []
    assert single(daemon.metric_families(None), "up") == 0.0


async def test_unknown_unit_says_not_found(host: FakeHost) -> None:
    host.show(LoadState="not-found", ActiveState="inactive", SubState="dead", MainPID=0)
    host.state["show"]["InactiveExitTimestamp"] = ""
    host.save()
    daemon = monitor(health_url="")
    status = await daemon.poll()
    assert status is not None
    assert "not-found, inactive (dead)" in status.conditions[0].message
    assert daemon.uptime(daemon.state, WALL) is None


async def test_healthz_failing_then_recovering(host: FakeHost, server: HealthServer) -> None:
    server.status, server.body = 500, b"[-]syncloop failed\n"
    daemon = monitor(health_url=server.url)
    first = await daemon.poll()
    assert first is not None
    assert first.conditions[0].reason == "KubeletHealthzFailed"
    assert "HTTP 500: [-]syncloop failed" in first.conditions[0].message
    server.status, server.body = 200, b"ok"
    second = await daemon.poll()
    assert second is not None
    assert second.conditions[0].status is ConditionStatus.FALSE
    assert [(e.severity, e.reason) for e in second.events] == [(Severity.INFO, "KubeletIsHealthy")]


async def test_healthz_on_a_closed_port_or_a_silent_server(
    host: FakeHost, server: HealthServer
) -> None:
    refused = monitor(health_url=f"http://127.0.0.1:{closed_port()}/healthz")
    status = await refused.poll()
    assert status is not None and status.conditions[0].reason == "KubeletHealthzFailed"
    server.silent = True
    silent = monitor(health_url=server.url, timeout="300ms")
    started = asyncio.get_running_loop().time()
    status = await silent.poll()
    assert asyncio.get_running_loop().time() - started < 3
    assert status is not None
    assert "no answer within 0.3s" in status.conditions[0].message


async def test_kube_proxy_defaults_to_livez(host: FakeHost) -> None:
    config = build_service_monitor({"component": "kube-proxy"}, source="agent.yaml")
    assert config.health_url == "http://127.0.0.1:10256/livez"
    assert (config.unit, config.condition) == ("kube-proxy.service", "KubeProxyUnhealthy")


@pytest.mark.parametrize(
    ("component", "program", "argv"),
    [
        (
            "containerd",
            "crictl",
            [
                "--timeout=2s",
                "--runtime-endpoint=unix:///var/run/containerd/containerd.sock",
                "pods",
                "--latest",
            ],
        ),
        ("docker", "docker", ["ps"]),
    ],
)
async def test_container_runtime_reachability(
    host: FakeHost, component: str, program: str, argv: list[str]
) -> None:
    config = build_service_monitor({"component": component}, source="agent.yaml")
    daemon = ServiceMonitor(config, clock=ManualClock(wall=WALL))
    await daemon.start()
    status = await daemon.poll()
    assert status is not None and status.conditions[0].status is ConditionStatus.FALSE
    assert host.calls(program) == [argv]
    host.set(**{f"{program}_exit": 1})
    status = await daemon.poll()
    assert status is not None
    (condition,) = status.conditions
    prefix = "Containerd" if component == "containerd" else "Docker"
    assert (condition.type, condition.reason) == (
        "ContainerRuntimeUnhealthy",
        f"{prefix}Unreachable",
    )
    assert "cannot connect to the runtime" in condition.message


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not an HTTP answer: 'SSH-2.0-OpenSSH_9.6'"),
        (b"", "not an HTTP answer: ''"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "unreadable answer"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", "HTTP 204"),
        (b"HTTP/1.1 200 OK\r\n\r\nok\x1b[31m" + b"z" * 500, "HTTP 200: ok [31mzzz"),
    ],
)
async def test_health_answers_that_are_not_200(answer: bytes, shown: str) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    listener = await asyncio.start_server(reply, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        probe = await http_probe(f"http://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        listener.close()
        await listener.wait_closed()
    assert probe.ok is answer.endswith(b"z" * 500)
    assert shown in probe.detail
    assert len(probe.detail) < 300


async def test_under_the_detector(host: FakeHost) -> None:
    host.show(ActiveState="inactive", SubState="dead", MainPID=0)
    config = build_service_monitor({"component": "kubelet"}, source="agent.yaml")
    daemon = ServiceMonitor.from_options(
        config=config, clock=ManualClock(wall=WALL), host_root="/", boot_time=0.0
    )
    assert isinstance(daemon, ProblemDaemon)
    registry = HealthRegistry(clock=ManualClock())
    registry.mark_started()
    exporter = RecordingExporter()
    detector = Detector([daemon], [exporter], registry=registry)
    await detector.start()
    try:
        async with asyncio.timeout(10):
            await exporter.received.wait()
    finally:
        await detector.stop()
    assert exporter.statuses[0].conditions[0].reason == "KubeletNotActive"
    declared = {(d.reason, d.condition) for d in exporter.declared}
    assert ("KubeletNotActive", "KubeletUnhealthy") in declared
    assert ("KubeletRepaired", None) in declared
    names = {f.name for f in detector.metric_families("node-1")}
    assert {"healthwatch_service_up", "healthwatch_service_repairs"} <= names
    registry_ = CollectorRegistry()
    registry_.register(FamiliesCollector(lambda: daemon.metric_families("node-1")))
    text = generate_latest(registry_).decode()
    assert (
        'healthwatch_service_repairs_total{component="kubelet",monitor="service-kubelet",' in text
    )
    assert (
        'healthwatch_service_up{component="kubelet",monitor="service-kubelet",node="node-1"' in text
    )
