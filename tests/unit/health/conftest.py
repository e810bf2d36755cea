"""Fixtures for the health core tests: a manual clock, a registry on it, and recorders.

No test here sleeps: time moves by ``clock.advance``; the only real waiting is a
check's own (tiny) timeout, or a bounded wait on a threading primitive.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Iterator

import pytest

from healthwatch.aio import ManualClock
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when a test says so."""
    return ManualClock()


@pytest.fixture
def make_registry(clock: ManualClock) -> Iterator[Callable[..., HealthRegistry]]:
    """Build registries on the manual clock (seeded jitter); every one is closed afterwards."""
    made: list[HealthRegistry] = []

    def make(
        *,
        stale_after: float | None = None,
        probe_timeout: float = 2.0,
        loop: asyncio.AbstractEventLoop | None = None,
        auto_register: bool = True,
        seed: int = 1234,
    ) -> HealthRegistry:
        registry = HealthRegistry(
            clock=clock,
            stale_after=stale_after,
            probe_timeout=probe_timeout,
            loop=loop,
            auto_register=auto_register,
            rng=random.Random(seed),  # noqa: S311 - reproducible jitter
        )
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.close()


@pytest.fixture
def registry(make_registry: Callable[..., HealthRegistry]) -> HealthRegistry:
    """A registry on the manual clock with a 2 s probe deadline."""
    return make_registry(probe_timeout=2.0)


@pytest.fixture
def transitions(registry: HealthRegistry) -> list[tuple[str, HealthStatus, HealthStatus]]:
    """Every (name, old, new) transition the registry reports to observers, in order."""
    seen: list[tuple[str, HealthStatus, HealthStatus]] = []
    registry.add_observer(lambda name, old, new, _snapshot: seen.append((name, old, new)))
    return seen


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """An event hung checks block on; set at teardown so their threads end."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def running_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running on a thread of its own, as an application's loop would."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-app-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()
