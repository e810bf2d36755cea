"""Applying a plan to a running detector: unchanged daemons stay, failures show, placeholders go."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from healthwatch.agent_problems import DaemonPlan
from healthwatch.agent_reload import (
    ReloadPlan,
    RunningParts,
    apply_plan,
    changes_of,
    snapshot,
)
from healthwatch.aio.clock import ManualClock
from healthwatch.checks.alertspec import Alerting
from healthwatch.config.agent import load_config
from healthwatch.detector import Detector
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus
from healthwatch.problems.base import DaemonFactory, ProblemDaemon
from healthwatch.testing import RecordingExporter, ScriptedDaemon

CLOCK = ManualClock()


@dataclass(frozen=True)
class Settings:
    name: str
    version: str


class ConfiguredDaemon(ScriptedDaemon):
    """A scripted daemon built from a config, as the daemon kinds are."""

    def __init__(self, name: str, config: Settings) -> None:
        super().__init__(name)
        self.config = config


def make(*, config: Settings, **_options: Any) -> ProblemDaemon:
    if config.version == "unbuildable":
        raise ValueError("no such device")
    return ConfiguredDaemon(config.name, config)


def plan(daemons: Mapping[str, str], *, decisions: Mapping[str, str] | None = None) -> ReloadPlan:
    """Daemons by name and config version; ``kernel-monitor`` is of the log monitor kind."""
    plans = tuple(
        DaemonPlan(
            "logmonitor" if name == "kernel-monitor" else "scripted", Settings(name, v), name
        )
        for name, v in daemons.items()
    )
    factories: dict[str, DaemonFactory] = {p.kind: make for p in plans}
    return ReloadPlan(
        config=load_config(None, overrides={"state_dir": "/nonexistent/state"}),
        daemons=plans,
        factories=factories,
        decisions=decisions or {},
        checks=(),
        alerting=Alerting(),
    )


@pytest.fixture
async def parts() -> AsyncIterator[RunningParts]:
    registry = HealthRegistry(clock=CLOCK)
    detector = Detector(
        [ConfiguredDaemon("a", Settings("a", "1"))], [RecordingExporter()], registry=registry
    )
    await detector.start()
    registry.register("daemon:kernel-monitor", groups=("problems",))
    registry.update("daemon:kernel-monitor", HealthStatus.DEGRADED, "no kernel log here")
    yield RunningParts(registry=registry, clock=CLOCK, detector=detector, checks=None)
    await detector.stop(flush_timeout=0.2)


async def apply(parts: RunningParts, wanted: ReloadPlan) -> tuple[str, tuple[str, ...]]:
    applied = await apply_plan(wanted, changes_of(wanted, snapshot(parts)), parts)
    return applied.describe(), applied.not_started


async def test_daemons_are_added_kept_and_failures_shown(parts: RunningParts) -> None:
    detector, registry = parts.detector, parts.registry
    assert detector is not None
    first = detector.daemons["a"]
    why = {"kernel_log": "no kernel log here"}
    described, not_started = await apply(
        parts, plan({"a": "1", "b": "1", "c": "unbuildable"}, decisions=why)
    )
    assert described == "daemons: 2 added, 1 unchanged; checks: none; not started: c"
    assert not_started == ("c",)
    assert detector.daemons["a"] is first and set(detector.daemons) == {"a", "b"}
    broken = registry.status("daemon:c")
    assert broken.status is HealthStatus.DEGRADED
    assert broken.message == "failed to start: no such device"
    assert registry.status("daemon:kernel-monitor").status is HealthStatus.DEGRADED

    described, not_started = await apply(parts, plan({"a": "2", "c": "unbuildable"}))
    assert described == "daemons: 1 added, 1 changed, 1 removed; checks: none; not started: c"
    assert not_started == ("c",) and detector.daemons["a"] is not first
    assert "daemon:b" not in registry and "daemon:kernel-monitor" not in registry


async def test_a_real_kernel_monitor_takes_the_place_of_its_placeholder(
    parts: RunningParts,
) -> None:
    detector = parts.detector
    assert detector is not None
    described, not_started = await apply(parts, plan({"a": "1", "kernel-monitor": "1"}))
    assert not_started == () and "kernel-monitor" in detector.daemons
    assert parts.registry.status("daemon:kernel-monitor").status is HealthStatus.HEALTHY
    assert described.startswith("daemons: 1 added, 1 unchanged")
