"""The detector with real asyncio tasks: start failures, fan-out, slow and failing exporters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.detector import Detector, NoDaemonStartedError
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus, OverallStatus
from healthwatch.model.problems import Event, ProblemDeclaration, Severity, Status
from healthwatch.testing import RecordingExporter, ScriptedDaemon


def status(source: str, reason: str) -> Status:
    return Status(
        source=source,
        events=(Event(severity=Severity.WARN, timestamp=1.0, reason=reason, message="m"),),
    )


@pytest.fixture
def registry() -> HealthRegistry:
    reg = HealthRegistry(clock=ManualClock())
    reg.mark_started()
    return reg


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Detector], Detector]]:
    started: list[Detector] = []

    def track(detector: Detector) -> Detector:
        started.append(detector)
        return detector

    yield track
    for detector in started:
        await detector.stop(flush_timeout=0.5)


async def wait_until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def test_statuses_reach_every_exporter_with_declarations(
    registry: HealthRegistry, running: Callable[[Detector], Detector]
) -> None:
    daemon = ScriptedDaemon(
        "kernel",
        [status("kernel", "OOMKilling")],
        declarations=[ProblemDeclaration(reason="OOMKilling")],
    )
    first, second = RecordingExporter("a"), RecordingExporter("b")
    detector = running(Detector([daemon], [first, second], registry=registry))
    await detector.start()
    await wait_until(lambda: bool(first.statuses and second.statuses))
    assert first.statuses == second.statuses == [status("kernel", "OOMKilling")]
    assert first.declared == (ProblemDeclaration(reason="OOMKilling", source="kernel"),)
    assert registry.status("daemon:kernel").status is HealthStatus.HEALTHY
    assert registry.status("exporter:a").status is HealthStatus.HEALTHY


async def test_a_daemon_that_cannot_start_degrades_and_others_run(
    registry: HealthRegistry, running: Callable[[Detector], Detector]
) -> None:
    broken = ScriptedDaemon("journal", start_error=HealthwatchError("journalctl not found"))
    fine = ScriptedDaemon("kernel", [status("kernel", "TaskHung")])
    exporter = RecordingExporter()
    detector = running(Detector([broken, fine], [exporter], registry=registry))
    await detector.start()
    await wait_until(lambda: bool(exporter.statuses))
    component = registry.status("daemon:journal")
    assert component.status is HealthStatus.DEGRADED
    assert "journalctl not found" in component.message
    assert detector.failed == {"journal": "journalctl not found"}
    report = registry.report()
    assert report.status is OverallStatus.DEGRADED  # 200, not unhealthy
    assert report.probes["readiness"].passed


async def test_no_daemon_starting_is_an_error_naming_each(registry: HealthRegistry) -> None:
    daemons = [
        ScriptedDaemon("a", start_error=HealthwatchError("cannot open /dev/kmsg")),
        ScriptedDaemon("b", start_error=ValueError("bad regex")),
    ]
    detector = Detector(daemons, [RecordingExporter()], registry=registry)
    with pytest.raises(NoDaemonStartedError, match=r"a: cannot open /dev/kmsg; b: bad regex"):
        await detector.start()


async def test_a_slow_exporter_stalls_nobody_and_its_drops_are_counted(
    registry: HealthRegistry, running: Callable[[Detector], Detector]
) -> None:
    statuses = [status("kernel", f"R{i}") for i in range(20)]
    slow, fast = RecordingExporter("slow"), RecordingExporter("fast")
    slow.gate = asyncio.Event()
    detector = running(
        Detector(
            [ScriptedDaemon("kernel", statuses, pause=0)],
            [slow, fast],
            registry=registry,
            queue_size=5,
        )
    )
    await detector.start()
    await wait_until(lambda: len(fast.statuses) == 20)
    assert slow.statuses == []
    families = {f.name: f for f in detector.metric_families("node-1")}
    samples = {
        (s.labels["exporter"], s.labels["outcome"]): s.value
        for s in families["healthwatch_exporter_statuses"].samples
    }
    assert samples[("fast", "exported")] == 20
    assert samples[("slow", "dropped")] >= 14  # 20 sent, at most 5 queued and 1 in hand
    assert registry.status("exporter:slow").status is HealthStatus.DEGRADED
    slow.gate.set()
    await wait_until(lambda: len(slow.statuses) + samples[("slow", "dropped")] >= 20)


async def test_a_failing_exporter_is_degraded_and_others_continue(
    registry: HealthRegistry, running: Callable[[Detector], Detector]
) -> None:
    bad, good = RecordingExporter("bad", fail=True), RecordingExporter("good")
    detector = running(
        Detector([ScriptedDaemon("k", [status("k", "X")])], [bad, good], registry=registry)
    )
    await detector.start()
    await wait_until(lambda: bool(good.statuses))
    await wait_until(lambda: registry.status("exporter:bad").status is HealthStatus.DEGRADED)
    assert "exporter told to fail" in registry.status("exporter:bad").message


async def test_a_failing_daemon_is_restarted_not_left_dead(
    registry: HealthRegistry, running: Callable[[Detector], Detector]
) -> None:
    daemon = ScriptedDaemon("flaky", [status("flaky", "X")], run_errors=2)
    exporter = RecordingExporter()
    detector = running(Detector([daemon], [exporter], registry=registry, restart_delay=0.01))
    await detector.start()
    await wait_until(lambda: bool(exporter.statuses))
    assert daemon.runs == 3
    component = registry.status("daemon:flaky")
    assert component.status is HealthStatus.DEGRADED
    assert "restarted 2 times" in component.message
    restarts = {f.name: f for f in detector.metric_families(None)}["healthwatch_daemon_restarts"]
    assert restarts.samples[0].value == 2


async def test_stop_stops_daemons_and_flushes(
    registry: HealthRegistry,
) -> None:
    daemon = ScriptedDaemon("k", [status("k", "X")])
    exporter = RecordingExporter()
    detector = Detector([daemon], [exporter], registry=registry)
    await detector.start()
    await wait_until(lambda: bool(exporter.statuses))
    await detector.stop(flush_timeout=0.5)
    assert daemon.stopped
