"""The reloader on a running event loop: requests, polling, rejections shown a while, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from healthwatch.agent_reload import REJECTED_SHOWN_FOR, Reloader, RunningParts
from healthwatch.aio.clock import ManualClock
from healthwatch.config.agent import load_config
from healthwatch.health.registry import HealthRegistry
from healthwatch.problems.base import DaemonKinds

QUIET = "agent:\n  reload_poll: 100ms\nlog_monitors: []\nstats_monitor: false\ngpu: false\n"


async def until(predicate: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 5
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.01)


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "agent.yaml"
        self.path.write_text(QUIET)
        self.clock = ManualClock()
        self.changes = 0
        config = load_config(str(self.path), overrides={"state_dir": str(tmp_path)})
        parts = RunningParts(
            registry=HealthRegistry(clock=self.clock), clock=self.clock, detector=None, checks=None
        )
        self.reloader = Reloader(
            config, parts, kinds=DaemonKinds(), health_url=None, on_change=self.changed
        )

    def changed(self) -> None:
        self.changes += 1

    def count(self, outcome: str) -> float:
        (family, _) = self.reloader.metric_families("n1")
        (value,) = [
            s.value for s in family.samples if s.labels == {"node": "n1", "outcome": outcome}
        ]
        return value


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    made = Setup(tmp_path)
    made.reloader.start()
    yield made
    await made.reloader.stop()


async def test_a_request_reloads_and_is_counted(setup: Setup) -> None:
    reloader = setup.reloader
    assert reloader.metadata() == {} and setup.count("applied") == 0
    setup.path.write_text(QUIET.replace("100ms", "0"))  # polling off from now on
    reloader.request()
    await until(lambda: setup.changes == 1)
    assert setup.count("applied") == 1 and reloader.problem is None
    assert reloader.config.reload_poll_seconds == 0
    assert reloader.metadata()["reload"].startswith("applied at 2023-11-14T22:13:20")
    assert "(SIGHUP): daemons: none; checks: none" in reloader.metadata()["reload"]
    (_, ok) = reloader.metric_families(None)
    assert ok.samples[0].value == 1.0 and ok.samples[0].labels == {}


async def test_a_rejection_is_shown_for_a_while_then_forgotten(setup: Setup) -> None:
    reloader = setup.reloader
    setup.path.write_text("checks: [\n")
    reloader.request("test")
    await until(lambda: setup.changes == 1)
    assert setup.count("rejected") == 1
    assert reloader.problem is not None
    assert reloader.problem.startswith(f"reload rejected: {setup.path}:2:1: invalid YAML")
    assert reloader.config.source == str(setup.path)  # the running config stays
    assert reloader.metric_families()[1].samples[0].value == 0.0
    setup.clock.advance(REJECTED_SHOWN_FOR + 1)
    await until(lambda: setup.changes == 2)
    assert reloader.problem is None


async def test_a_changed_file_is_reloaded_without_a_request(setup: Setup) -> None:
    await asyncio.sleep(0.15)  # the watch has taken the file as it is
    setup.path.write_text(QUIET + "stats_monitor: {}\n")
    await until(lambda: setup.changes == 1)
    latest = setup.reloader.latest
    assert latest is not None and latest.trigger == f"file changed: {setup.path}"
    assert "needs a restart: problem daemons (none ran at start)" in latest.summary


async def test_requests_during_shutdown_are_ignored(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="healthwatch.agent")
    setup.reloader.close()
    setup.reloader.request()
    await asyncio.sleep(0.2)
    assert setup.changes == 0 and setup.count("applied") == 0
    assert "config reload (SIGHUP) ignored: shutting down" in caplog.text
