"""Adding and removing problem daemons under a running detector, as a reload does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.detector import Detector
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import (
    Condition,
    ConditionStatus,
    ProblemDeclaration,
    Status,
)
from healthwatch.testing import RecordingExporter, ScriptedDaemon

CLOCK = ManualClock()


def holding(source: str, *types: str) -> Status:
    held = [
        Condition(type=t, status=ConditionStatus.TRUE, transition=1.0, reason="Bad", message="bad")
        for t in types
    ]
    fine = Condition(
        type="Fine", status=ConditionStatus.FALSE, transition=1.0, reason="AllGood", message="ok"
    )
    return Status(source=source, conditions=(*held, fine))


async def until(predicate: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 5
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.005)


@pytest.fixture
def registry() -> HealthRegistry:
    return HealthRegistry(clock=CLOCK)


@pytest.fixture
async def started(registry: HealthRegistry) -> AsyncIterator[tuple[Detector, RecordingExporter]]:
    exporter = RecordingExporter()
    detector = Detector(
        [ScriptedDaemon("kernel", [holding("kernel", "KernelDeadlock")])],
        [exporter],
        registry=registry,
    )
    await detector.start()
    await until(lambda: len(exporter.statuses) == 1)
    yield detector, exporter
    await detector.stop(flush_timeout=0.5)


async def test_an_added_daemon_runs_and_declares_its_problems(
    started: tuple[Detector, RecordingExporter], registry: HealthRegistry
) -> None:
    detector, exporter = started
    extra = ScriptedDaemon(
        "ntp", [holding("ntp", "NTPProblem")], declarations=[ProblemDeclaration(reason="Drift")]
    )
    assert await detector.add(extra)
    await until(lambda: len(exporter.statuses) == 2)
    assert exporter.declared == (ProblemDeclaration(reason="Drift", source="ntp"),)
    assert registry.status("daemon:ntp").status is HealthStatus.HEALTHY
    assert set(detector.daemons) == {"kernel", "ntp"}
    assert {s.labels["daemon"] for s in detector.metric_families()[1].samples} == {"kernel", "ntp"}
    with pytest.raises(ValueError, match="already here"):
        await detector.add(ScriptedDaemon("ntp"))


async def test_a_removed_daemon_stops_and_its_conditions_are_retired(
    started: tuple[Detector, RecordingExporter], registry: HealthRegistry
) -> None:
    detector, exporter = started
    daemon = detector.daemons["kernel"]
    assert isinstance(daemon, ScriptedDaemon)
    assert await detector.remove("kernel")
    await until(lambda: len(exporter.statuses) == 2)
    assert daemon.stopped and "kernel" not in detector.daemons
    assert "daemon:kernel" not in registry
    (retired,) = exporter.statuses[1].conditions  # only what held; the healthy one is not news
    assert exporter.statuses[1].source == "kernel"
    assert (retired.type, retired.status, retired.reason) == (
        "KernelDeadlock",
        ConditionStatus.FALSE,
        "Retired",
    )
    assert retired.transition == CLOCK.time()
    assert not await detector.remove("kernel")


async def test_a_replaced_daemon_is_removed_without_retiring(
    started: tuple[Detector, RecordingExporter],
) -> None:
    detector, exporter = started
    assert await detector.remove("kernel", retire=False)
    assert await detector.add(ScriptedDaemon("kernel", [holding("kernel", "KernelDeadlock")]))
    await until(lambda: len(exporter.statuses) == 2)
    assert [s.conditions[0].status for s in exporter.statuses] == [ConditionStatus.TRUE] * 2


async def test_a_daemon_that_cannot_start_is_shown_and_can_be_removed(
    started: tuple[Detector, RecordingExporter], registry: HealthRegistry
) -> None:
    detector, _ = started
    broken = ScriptedDaemon("journal", start_error=HealthwatchError("journalctl not found"))
    assert not await detector.add(broken)
    assert detector.failed == {"journal": "journalctl not found"}
    assert registry.status("daemon:journal").status is HealthStatus.DEGRADED
    assert "journal" in detector.daemons
    assert await detector.remove("journal")
    assert detector.failed == {} and "daemon:journal" not in registry
    assert not broken.stopped  # it never started: nothing to stop
