"""Shared pieces of the GPU daemon tests: a recording sink, a clock-driven sleep, a daemon maker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from healthwatch.model.problems import Condition, ConditionStatus, Event, Status
from healthwatch.problems.gpu.config import GpuConfig
from healthwatch.problems.gpu.daemon import GpuDaemon
from healthwatch.testing import FakeGpuAdapter, ManualClock


class Sink:
    """Records every status."""

    def __init__(self) -> None:
        self.statuses: list[Status] = []

    def report(self, status: Status) -> None:
        self.statuses.append(status)

    @property
    def events(self) -> list[Event]:
        return [event for status in self.statuses for event in status.events]

    def condition(self, kind: str) -> Condition:
        """The latest reported condition of ``kind``."""
        for status in reversed(self.statuses):
            for condition in status.conditions:
                if condition.type == kind:
                    return condition
        raise AssertionError(f"no {kind} condition reported")

    def is_true(self, kind: str) -> bool:
        return self.condition(kind).status is ConditionStatus.TRUE


async def eventually(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait (briefly, in real time: worker threads are involved) until ``predicate()`` holds."""
    deadline = asyncio.get_running_loop().time() + limit
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


class ClockSleep:
    """An injected sleep that moves a ManualClock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def fake(clock: ManualClock) -> FakeGpuAdapter:
    return FakeGpuAdapter(2, clock=clock)


@pytest.fixture
def host_root(tmp_path: Path) -> Path:
    """A host root whose boot id is known."""
    root = tmp_path / "host"
    boot = root / "proc/sys/kernel/random"
    boot.mkdir(parents=True)
    (boot / "boot_id").write_text("0f6f3a4e-1111-2222-3333-444455556666\n")
    return root


MakeDaemon = Callable[..., GpuDaemon]


@pytest.fixture
async def make_daemon(
    clock: ManualClock, fake: FakeGpuAdapter, host_root: Path
) -> AsyncIterator[MakeDaemon]:
    """Builds started-or-not daemons on the fake adapter; stops them all afterwards."""
    made: list[GpuDaemon] = []

    def make(config: GpuConfig | None = None, **options: object) -> GpuDaemon:
        settings: dict[str, object] = {
            "clock": clock,
            "adapter": fake,
            "host_root": str(host_root),
            "sleep": ClockSleep(clock),
            "xid_wait": 0.01,
        }
        settings.update(options)
        daemon = GpuDaemon(config or GpuConfig(timeout=2.0), **settings)  # type: ignore[arg-type]
        made.append(daemon)
        return daemon

    yield make
    fake.release()
    for daemon in made:
        await daemon.stop()
