"""node-problem-detector's health checker, run unchanged as a custom plugin, through the detector.

The config is NPD's ``health-checker-kubelet.json`` shape, loaded as JSON; the plugin
is a stand-in for NPD's ``health-checker`` binary with the same flags, environment
and exit codes (0 healthy, 1 unhealthy, 2 cannot tell), checking a real loopback
``/healthz`` server the test turns bad and then off.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from healthwatch.aio.clock import SystemClock
from healthwatch.detector import Detector
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus, ProblemDeclaration, Severity
from healthwatch.problems.pluginmonitor.config import load_npd_custom_plugin_monitor
from healthwatch.problems.pluginmonitor.monitor import PluginMonitor
from healthwatch.testing import RecordingExporter
from tests.integration.aio.pluginkit import condition

CHECKER = """\
#!{python}
import os, sys, urllib.error, urllib.request
flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:] if "=" in arg)
if flags.get("component") != "kubelet" or flags.get("enable-repair") != "false":
    print("unexpected flags: " + " ".join(sys.argv[1:]))
    sys.exit(2)
host = os.environ.get("HOST_ADDRESS", "localhost")
port = os.environ.get("KUBELET_PORT", "10248")
try:
    with urllib.request.urlopen(f"http://{{host}}:{{port}}/healthz", timeout=2) as answer:
        healthy = answer.status == 200
except urllib.error.HTTPError:
    healthy = False
except OSError as error:
    print(f"health check failed: {{error}}")
    sys.exit(2)
print("kubelet:kubelet is " + ("healthy" if healthy else "unhealthy"))
sys.exit(0 if healthy else 1)
"""


class Kubelet:
    """A loopback ``/healthz`` whose answer the test sets."""

    def __init__(self) -> None:
        self.code = 200
        self.port = 0
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        self.runner = web.AppRunner(app)

    async def _healthz(self, request: web.Request) -> web.Response:
        del request
        return web.Response(status=self.code, text="ok" if self.code == 200 else "bad")

    async def start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = int(self.runner.addresses[0][1])


@pytest.fixture
async def kubelet() -> AsyncIterator[Kubelet]:
    server = Kubelet()
    await server.start()
    try:
        yield server
    finally:
        await server.runner.cleanup()


def _config_file(tmp_path: Path) -> Path:
    checker = tmp_path / "bin" / "health-checker"
    checker.parent.mkdir()
    checker.write_text(CHECKER.format(python=sys.executable), encoding="utf-8")
    checker.chmod(0o755)
    doc = {
        "plugin": "custom",
        "pluginConfig": {
            "invoke_interval": "300ms",
            "timeout": "3m",
            "max_output_length": 80,
            "concurrency": 1,
        },
        "source": "health-checker",
        "metricsReporting": True,
        "conditions": [
            {
                "type": "KubeletUnhealthy",
                "reason": "KubeletIsHealthy",
                "message": "kubelet on the node is functioning properly",
            }
        ],
        "rules": [
            {
                "type": "permanent",
                "condition": "KubeletUnhealthy",
                "reason": "KubeletUnhealthy",
                "path": str(checker),
                "args": [
                    "--component=kubelet",
                    "--enable-repair=false",
                    "--cooldown-time=1m",
                    "--health-check-timeout=10s",
                ],
                "timeout": "3m",
            }
        ],
    }
    path = tmp_path / "health-checker-kubelet.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


async def test_npds_health_checker_runs_unchanged_through_the_detector(
    tmp_path: Path, kubelet: Kubelet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST_ADDRESS", "127.0.0.1")
    monkeypatch.setenv("KUBELET_PORT", str(kubelet.port))
    config = load_npd_custom_plugin_monitor(_config_file(tmp_path))
    monitor = PluginMonitor.from_options(
        config=config, clock=SystemClock(), host_root="/host", state_dir=tmp_path / "state"
    )
    registry = HealthRegistry(clock=SystemClock())
    registry.mark_started()
    exporter = RecordingExporter()
    detector = Detector([monitor], [exporter], registry=registry)
    await detector.start()
    try:
        assert exporter.declared == (
            ProblemDeclaration(
                reason="KubeletUnhealthy", condition="KubeletUnhealthy", source="health-checker"
            ),
        )

        async def until(status: ConditionStatus, *, statuses: int = 1) -> None:
            async with asyncio.timeout(15):
                while not (
                    len(exporter.statuses) >= statuses
                    and condition(exporter.statuses[-1], "KubeletUnhealthy").status is status
                ):
                    exporter.received.clear()
                    await exporter.received.wait()

        await until(ConditionStatus.FALSE, statuses=2)  # the initial status, then a result
        assert [s.source for s in exporter.statuses] == ["health-checker"] * 2
        assert condition(exporter.statuses[-1], "KubeletUnhealthy").message == (
            "kubelet on the node is functioning properly"
        )
        assert registry.status("daemon:health-checker").status is HealthStatus.HEALTHY

        kubelet.code = 500
        await until(ConditionStatus.TRUE)
        changed = exporter.statuses[-1]
        now = condition(changed, "KubeletUnhealthy")
        assert (now.reason, now.message) == ("KubeletUnhealthy", "kubelet:kubelet is unhealthy")
        [event] = changed.events
        assert event.severity is Severity.WARN
        assert event.message == (
            "Node condition KubeletUnhealthy is now: True, reason: KubeletUnhealthy, "
            'message: "kubelet:kubelet is unhealthy"'
        )

        await kubelet.runner.cleanup()  # the kubelet is gone: the checker cannot tell
        await until(ConditionStatus.UNKNOWN)
        now = condition(exporter.statuses[-1], "KubeletUnhealthy")
        assert now.reason == "KubeletIsHealthy"
        assert now.message.startswith("health check failed:")
        component = registry.status("daemon:health-checker")
        assert component.status is HealthStatus.DEGRADED
        assert "unknown result" in component.message and "(exit 2)" in component.message
        names = {f.name for f in detector.metric_families("node-1")}
        assert "healthwatch_pluginmonitor_invocations" in names
    finally:
        await detector.stop(flush_timeout=1.0)
    saved = tmp_path / "state" / "pluginmonitor" / "health-checker.health-checker-kubelet.json"
    assert json.loads(saved.read_text(encoding="utf-8"))["conditions"][0]["status"] == "Unknown"
