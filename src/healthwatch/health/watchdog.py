"""Process-self checks for liveness: is the event loop running, are key threads alive?

Liveness must restart a process only when the process itself is broken, never
because a dependency blinked. These watchdogs are what liveness holds by
default: the event loop stall watchdog fails when the loop has not run a
callback for ``stall_after`` seconds (a blocking call, a deadlock, a CPU-bound
hog), and the thread watchdog fails when a watched thread has died or stopped
beating. Both are judged at probe time from timestamps, so they answer even
while the loop they watch is stuck.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from healthwatch.aio.clock import Clock
from healthwatch.health.checks import CheckOutcome, CheckPolicy
from healthwatch.health.groups import LIVENESS
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus

TYPE_CHECKING = False  # asyncio only for types: importing this stays cheap
if TYPE_CHECKING:
    import asyncio

__all__ = ["WATCHDOG_POLICY", "LoopWatchdog", "ThreadWatchdog", "watch_event_loop"]

WATCHDOG_POLICY = CheckPolicy(inline=True, success_ttl=0, failure_ttl=0, timeout=1.0)
"""Watchdogs are cheap and must be fresh on every probe: run inline, never cached."""


class LoopWatchdog:
    """Fails when an asyncio loop has not run for ``stall_after`` seconds."""

    def __init__(
        self, *, clock: Clock, stall_after: float = 10.0, interval: float | None = None
    ) -> None:
        # A beat a second is enough for a limit of seconds; short limits beat 4 times as often.
        interval = min(1.0, stall_after / 4) if interval is None else interval
        if stall_after <= interval:
            raise ValueError(
                f"stall_after ({stall_after}s) must exceed the beat interval ({interval}s)"
            )
        self.clock = clock
        self.stall_after = stall_after
        self.interval = interval
        self._last_beat: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def beat(self) -> None:
        """Record that the loop ran just now."""
        self._last_beat = self.clock.monotonic()

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            # A tick queued before detach() (or for a loop since replaced) must not beat:
            # it would revive a detached watchdog, which would then report a stall.
            if self._loop is not loop or loop.is_closed():
                return
            self.beat()
            self._handle = loop.call_later(self.interval, self._tick, loop)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start beating on ``loop`` (callable from any thread)."""
        with self._lock:
            self._loop = loop
        loop.call_soon_threadsafe(self._tick, loop)

    def detach(self) -> None:
        """Stop beating; the watchdog then reports UNKNOWN."""
        with self._lock:
            loop, self._loop = self._loop, None
            handle, self._handle = self._handle, None
            self._last_beat = None
        if handle is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(handle.cancel)

    def check(self) -> CheckOutcome:
        """The loop's health from the age of its latest beat."""
        if self._last_beat is None:
            return CheckOutcome(status=HealthStatus.UNKNOWN, message="event loop not watched yet")
        age = self.clock.monotonic() - self._last_beat
        if age > self.stall_after:
            return CheckOutcome(
                status=HealthStatus.UNHEALTHY,
                message=f"event loop stalled: no callback ran for {age:.1f}s "
                f"(limit {self.stall_after:g}s)",
            )
        return CheckOutcome(status=HealthStatus.HEALTHY, message=f"last beat {age:.2f}s ago")


@dataclass(slots=True)
class _Watched:
    thread: threading.Thread
    stall_after: float | None
    last_beat: float


class ThreadWatchdog:
    """Fails when a watched thread has died, or has not beaten within its limit."""

    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._watched: dict[str, _Watched] = {}

    def watch(
        self, thread: threading.Thread, *, name: str | None = None, stall_after: float | None = None
    ) -> str:
        """Watch ``thread``; with ``stall_after`` it must call :meth:`heartbeat` that often."""
        key = name or thread.name
        with self._lock:
            self._watched[key] = _Watched(thread, stall_after, self.clock.monotonic())
        return key

    def unwatch(self, name: str) -> None:
        """Stop watching a thread (for example when it is shut down on purpose)."""
        with self._lock:
            self._watched.pop(name, None)

    def heartbeat(self, name: str) -> None:
        """Record that the named thread is making progress."""
        with self._lock:
            watched = self._watched.get(name)
            if watched is not None:
                watched.last_beat = self.clock.monotonic()

    def check(self) -> CheckOutcome:
        """Healthy while every watched thread is alive and beating in time."""
        now = self.clock.monotonic()
        problems: list[str] = []
        with self._lock:
            items = list(self._watched.items())
        for name, watched in items:
            if not watched.thread.is_alive():
                problems.append(f"thread {name} is not running")
            elif watched.stall_after is not None and now - watched.last_beat > watched.stall_after:
                problems.append(f"thread {name} silent for {now - watched.last_beat:.1f}s")
        if problems:
            return CheckOutcome(status=HealthStatus.UNHEALTHY, message="; ".join(problems))
        return CheckOutcome(status=HealthStatus.HEALTHY, message=f"{len(items)} threads watched")


def watch_event_loop(
    registry: HealthRegistry,
    loop: asyncio.AbstractEventLoop,
    *,
    name: str = "event-loop",
    stall_after: float = 10.0,
) -> LoopWatchdog:
    """Register a loop watchdog as a liveness member and start it on ``loop``."""
    watchdog = LoopWatchdog(clock=registry.clock, stall_after=stall_after)
    registry.register(name, watchdog.check, groups=(LIVENESS,), policy=WATCHDOG_POLICY)
    watchdog.attach(loop)
    return watchdog
