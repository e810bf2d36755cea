"""Pieces shared by the plugin monitor's integration tests: a collecting sink, a runner, configs,
and a plugin whose answer the test controls through two files."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from healthwatch.model.problems import Condition, ConditionStatus, Status
from healthwatch.problems.pluginmonitor.config import PluginMonitorConfig, build_plugin_monitor
from healthwatch.problems.pluginmonitor.monitor import Invocation, PluginMonitor

__all__ = [
    "Collector",
    "condition",
    "control",
    "controlled_script",
    "make_config",
    "metric_values",
    "running",
]


class Collector:
    """A sink that keeps every status and every invocation, and waits for what a test needs."""

    def __init__(self) -> None:
        self.statuses: list[Status] = []
        self.invocations: list[Invocation] = []
        self._changed = asyncio.Event()

    def report(self, status: Status) -> None:
        self.statuses.append(status)
        self._changed.set()

    def invoked(self, invocation: Invocation) -> None:
        self.invocations.append(invocation)
        self._changed.set()

    def count(self, rule: str) -> int:
        return sum(1 for i in self.invocations if i.rule.name == rule)

    async def wait_for(self, predicate: Callable[[], bool], *, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def invocations_at_least(self, count: int, *, within: float = 10.0) -> None:
        await self.wait_for(lambda: len(self.invocations) >= count, within=within)

    async def condition_becomes(self, type_: str, status: ConditionStatus) -> Status:
        """Wait for a status whose condition ``type_`` is ``status``; that status."""
        await self.wait_for(lambda: condition(self.statuses[-1], type_).status is status)
        return self.statuses[-1]

    async def event_says(self, message: str) -> Status:
        """Wait for a status whose first event's message is ``message``; that status."""
        await self.wait_for(
            lambda: (
                bool(self.statuses[-1].events) and self.statuses[-1].events[0].message == message
            )
        )
        return self.statuses[-1]


def metric_values(monitor: PluginMonitor, name: str) -> dict[tuple[str, ...], float]:
    """``healthwatch_pluginmonitor_<name>`` by its labels' values (sorted by label name,
    the monitor's own label left out)."""
    family = next(
        f for f in monitor.metric_families(None) if f.name == f"healthwatch_pluginmonitor_{name}"
    )
    return {
        tuple(v for k, v in sorted(s.labels.items()) if k != "monitor"): s.value
        for s in family.samples
    }


def condition(status: Status, type_: str) -> Condition:
    """The condition of ``type_`` in ``status``."""
    return next(c for c in status.conditions if c.type == type_)


def make_config(**entry: Any) -> PluginMonitorConfig:
    """A config from our YAML form (as parsed data), with fast defaults for tests."""
    raw = {"name": "plugins", "interval": "200ms", "timeout": "5s", **entry}
    return build_plugin_monitor(raw, source="test.yaml")


@contextlib.asynccontextmanager
async def running(monitor: PluginMonitor, sink: Collector) -> AsyncIterator[asyncio.Task[None]]:
    """Start ``monitor`` and run it into ``sink`` for the block; it must still be running after."""
    monitor.on_invocation = sink.invoked
    await monitor.start()
    task = asyncio.create_task(monitor.run(sink), name=f"test-{monitor.name}")
    try:
        yield task
        assert not task.done(), "the monitor stopped running"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await monitor.stop()


def control(directory: Path, code: int, message: str) -> None:
    """What the controlled plugin (``controlled_script``) answers next (replaced atomically)."""
    staged = directory / ".answer"
    staged.write_text(f"{code}\n{message}", encoding="utf-8")
    staged.replace(directory / "answer")


def controlled_script(directory: Path) -> str:
    """A plugin that prints the message and exits with the code last given to ``control``."""
    return f'exec < "{directory}/answer"\nread code\ncat\nexit "$code"\n'
