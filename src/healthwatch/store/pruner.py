"""Retention on a timer: the store deletes what it no longer keeps, a little at a time.

A node agent runs for months, so the store prunes itself instead of relying on
someone to call it: a named task started when the store opens and cancelled when
it closes. Each run deletes in steps of at most ``batch`` rows (``retention``),
each step queued as its own job on the store's thread, so results written while
a large backlog is deleted wait for one step at most. A failed run is logged and
counted; the timer carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from healthwatch.aio.clock import Clock
from healthwatch.store.retention import (
    Retention,
    RollupTable,
    forget_unused_checks,
    prune_results,
    prune_rollups,
)
from healthwatch.store.schema import StoreError

__all__ = ["JobRunner", "Pruner"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")


class JobRunner(Protocol):
    """Runs ``job(connection)`` on the store's thread and returns its answer."""

    async def __call__(self, job: Callable[[sqlite3.Connection], _T], doing: str) -> _T: ...


class Pruner:
    """Deletes results and roll-ups older than ``retention``, now or every so often."""

    def __init__(
        self,
        *,
        path: Path,
        retention: Retention,
        clock: Clock,
        batch: int,
        run: JobRunner,
        forget_ids: Callable[[], None],
    ) -> None:
        self._path = path
        self._retention = retention
        self._clock = clock
        self._batch = batch
        self._run = run
        self._forget_ids = forget_ids
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.deleted: dict[str, int] = {"results": 0, "rollups_hour": 0, "rollups_day": 0}
        """Rows deleted so far, by table."""
        self.runs = 0
        """Runs completed."""
        self.errors = 0
        """Runs on the timer that failed."""

    def start(self, interval: float) -> None:
        """Prune every ``interval`` seconds (on the running loop) until :meth:`stop`."""
        self._task = asyncio.create_task(
            self._every(interval), name=f"healthwatch-store-prune:{self._path.name}"
        )

    async def stop(self) -> None:
        """Cancel the timer and wait for it (a step already running on the thread finishes)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def prune(self) -> int:
        """One run: results, then hourly and daily roll-ups; returns the rows deleted."""
        async with self._lock:
            now = self._clock.time()
            total = await self._results(now - self._retention.raw)
            total += await self._rollups("rollups_hour", now - self._retention.hourly)
            total += await self._rollups("rollups_day", now - self._retention.daily)
            while await self._run(self._forget_checks, "forgetting unused checks") > 0:
                pass
            self.runs += 1
            return total

    async def _every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.prune()
            except StoreError as error:
                self.errors += 1
                _log.warning("%s; pruning again in %gs", error, interval)
            except Exception:
                self.errors += 1
                _log.exception("history store %s: pruning failed", self._path)

    async def _results(self, before: float) -> int:
        step = functools.partial(prune_results, before=before, limit=self._batch)
        total = 0
        while True:
            deleted = await self._run(step, "pruning results")
            total += deleted
            self.deleted["results"] += deleted
            if deleted < self._batch:
                return total

    async def _rollups(self, table: RollupTable, before: float) -> int:
        total = 0
        resume: int | None = 0
        while resume is not None:
            step = functools.partial(
                prune_rollups, table=table, before=before, limit=self._batch, after_check=resume
            )
            deleted, resume = await self._run(step, f"pruning {table}")
            total += deleted
            self.deleted[table] += deleted
        return total

    def _forget_checks(self, connection: sqlite3.Connection) -> int:
        """Runs on the store's thread, so the id cache is cleared before any later write."""
        forgotten = forget_unused_checks(connection, limit=self._batch)
        if forgotten:
            self._forget_ids()
        return forgotten
