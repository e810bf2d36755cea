"""When plugins run: node-problem-detector's schedule, with a shared concurrency limit.

Rules are grouped by their effective interval. At start every rule runs once,
as one batch; then each group runs as a batch on its own grid of ticks,
``start + k * interval``, counted from the start so there is no drift. A batch
waits for all its plugins, so a rule never overlaps itself, and a batch that
overruns its next tick is followed by at most one catch-up run at once (ticks
missed beyond that are skipped, as Go's ticker drops them). Each plugin holds a
permit of one semaphore shared by all groups while it runs; permits are taken in
rule order, so the order of a batch is the order of the config.

The time a plugin waits past its tick (for its group's turn or for a permit) is
its lateness: the invoke callback receives the tick's time and measures it.
Time is the injected clock's; the sleep is injectable so that tests run on
simulated time.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from healthwatch.aio.clock import Clock

__all__ = ["PluginScheduler"]

_log = logging.getLogger("healthwatch.problems.pluginmonitor")
R = TypeVar("R")


class PluginScheduler(Generic[R]):
    """Runs ``invoke(rule, tick)`` for each rule on its interval, until cancelled."""

    def __init__(
        self,
        rules: Sequence[R],
        *,
        interval_of: Callable[[R], float],
        invoke: Callable[[R, float], Awaitable[None]],
        concurrency: int,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        label: Callable[[R], str] = str,
        name: str = "plugins",
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        for rule in rules:
            if not interval_of(rule) > 0:
                raise ValueError(f"{label(rule)}: interval must be positive")
        self._rules = list(rules)
        self._interval_of = interval_of
        self._invoke = invoke
        self._clock = clock
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._label = label
        self._name = name
        self._permits = asyncio.Semaphore(concurrency)
        self.running = 0
        """Plugins holding a permit now."""
        self.max_running = 0
        """The most plugins that ever held a permit at once."""
        self.batches = 0
        """Batches started (the start-up batch included)."""
        self.skipped_ticks = 0
        """Ticks dropped because their group's previous batch overran them."""
        self.failures = 0
        """Invocations whose callback raised (a bug: the callback reports its own failures)."""

    def groups(self) -> dict[float, list[R]]:
        """Rules by effective interval, in config order."""
        grouped: dict[float, list[R]] = {}
        for rule in self._rules:
            grouped.setdefault(self._interval_of(rule), []).append(rule)
        return grouped

    async def run(self) -> None:
        """The start-up batch, then every group on its grid; returns only by cancellation."""
        start = self._clock.monotonic()
        if not self._rules:
            await asyncio.Event().wait()  # nothing to run: idle until cancelled
        await self._batch(self._rules, start)
        tasks = [
            asyncio.create_task(
                self._group(interval, members, start), name=f"{self._name}-every-{interval:g}s"
            )
            for interval, members in self.groups().items()
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _group(self, interval: float, rules: list[R], start: float) -> None:
        tick = 0  # the start-up batch was tick 0
        launched = start
        while True:
            # The first tick after the previous launch is the one pending; ticks between
            # the previous one and the launch (a catch-up's) were dropped.
            following = max(tick + 1, math.floor((launched - start) / interval) + 1)
            self.skipped_ticks += following - tick - 1
            tick = following
            due = start + tick * interval
            now = self._clock.monotonic()
            while now < due:
                await self._sleep(due - now)
                now = self._clock.monotonic()
            launched = now
            await self._batch(rules, due)

    async def _batch(self, rules: Sequence[R], tick: float) -> None:
        self.batches += 1
        tasks: list[asyncio.Task[None]] = []
        try:
            for rule in rules:
                await self._permits.acquire()
                tasks.append(
                    asyncio.create_task(
                        self._one(rule, tick), name=f"{self._name}-{self._label(rule)}"
                    )
                )
            await asyncio.gather(*tasks)
        finally:
            pending = [task for task in tasks if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _one(self, rule: R, tick: float) -> None:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await self._invoke(rule, tick)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in the callback must not stop the schedule
            self.failures += 1
            _log.exception("%s: invoking %s failed", self._name, self._label(rule))
        finally:
            self.running -= 1
            self._permits.release()
