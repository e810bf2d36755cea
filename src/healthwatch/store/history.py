"""The history store: check results, roll-ups and alert state in one SQLite file.

This is the event-loop side: every SQLite call runs on the store's own thread
(``worker``) and is awaited here. Results are written in batches, and the number
waiting is bounded: when the queue is full ``add_result`` waits (backpressure),
or with ``wait=False`` drops the result and counts it. While open, the store
prunes itself on a timer: what is older than its :class:`Retention` is deleted in
transactions of at most ``prune_batch`` rows, queued one after another so writes
arriving meanwhile go in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from healthwatch.aio.clock import Clock
from healthwatch.model.checks import CheckResult
from healthwatch.store.pruner import Pruner
from healthwatch.store.retention import DEFAULT_PRUNE_BATCH, DEFAULT_PRUNE_INTERVAL, Retention
from healthwatch.store.rollups import RESOLUTIONS, Resolution, Rollup, UptimeDay, bucket_start
from healthwatch.store.schema import StoreError
from healthwatch.store.sketch import SketchError
from healthwatch.store.stats import StoreStats
from healthwatch.store.tables import read_results, read_rollups, read_uptime
from healthwatch.store.worker import StoreWorker

__all__ = ["HistoryStore", "StoreStats"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_DAY: Final = RESOLUTIONS["day"]


class HistoryStore:
    """Keeps check results, hourly and daily roll-ups, and per-check state in ``path``.

    Use ``async with HistoryStore(...) as store`` or ``await store.open()`` …
    ``await store.close()``. What is kept how long is ``retention``;
    ``raw_retention`` and ``rollup_retention`` (both roll-ups) override it, as in
    the first form of this class. Every ``prune_interval`` seconds while open (None:
    only when :meth:`prune` is called) older rows are deleted, at most
    ``prune_batch`` per transaction.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock,
        retention: Retention | None = None,
        raw_retention: float | None = None,
        rollup_retention: float | None = None,
        prune_interval: float | None = DEFAULT_PRUNE_INTERVAL,
        prune_batch: int = DEFAULT_PRUNE_BATCH,
        max_queue: int = 1000,
        busy_timeout: float = 5.0,
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, not {max_queue}")
        if prune_interval is not None and not 0 < prune_interval < math.inf:
            raise ValueError(f"prune_interval must be a positive number, not {prune_interval}")
        if prune_batch < 1:
            raise ValueError(f"prune_batch must be at least 1, not {prune_batch}")
        kept = retention or Retention()
        self.retention = Retention(
            raw=kept.raw if raw_retention is None else raw_retention,
            hourly=kept.hourly if rollup_retention is None else rollup_retention,
            daily=kept.daily if rollup_retention is None else rollup_retention,
        )
        """What is kept how long (seconds)."""
        self.path = path
        self._clock = clock
        self._prune_interval = prune_interval
        self._max_queue = max_queue
        self._worker = StoreWorker(
            path,
            busy_timeout=busy_timeout,
            on_bad_sketch=self._bad_sketch,
            on_batch_done=self._batch_done,
        )
        self._pruner = Pruner(
            path=path,
            retention=self.retention,
            clock=clock,
            batch=prune_batch,
            run=self._call,
            forget_ids=self._worker.ids.forget,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._started = False
        self._closed = False
        self._dropped = 0
        self._queued = 0
        self._corrupt = 0

    async def __aenter__(self) -> HistoryStore:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Create or open the file, check and migrate it, start pruning.

        Raises :class:`StoreError` when the file cannot be used.
        """
        if self._started:
            raise RuntimeError("HistoryStore.open() called twice")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self._max_queue)
        try:
            await asyncio.wrap_future(self._worker.start())
        except BaseException:
            self._closed = True
            await asyncio.wrap_future(self._worker.stopped)
            raise
        if self._prune_interval is not None:
            self._pruner.start(self._prune_interval)

    async def close(self) -> None:
        """Stop pruning, write what is queued, then close the file. Idempotent."""
        if not self._started or self._closed:
            self._closed = True
            return
        self._closed = True
        await self._pruner.stop()
        self._worker.stop()
        await asyncio.wrap_future(self._worker.stopped)

    def stats(self) -> StoreStats:
        """The counters so far."""
        return StoreStats(
            written=self._worker.written,
            dropped=self._dropped,
            errors=self._worker.errors,
            queue_length=self._queued,
            pruned_results=self._pruner.deleted["results"],
            pruned_hourly=self._pruner.deleted["rollups_hour"],
            pruned_daily=self._pruner.deleted["rollups_day"],
            prune_runs=self._pruner.runs,
            prune_errors=self._pruner.errors,
            corrupt_sketches=self._corrupt,
        )

    async def add_result(self, result: CheckResult, *, wait: bool = True) -> bool:
        """Queue ``result`` for writing.

        When the queue is full, wait for room; or, with ``wait=False``, drop the
        result, count it in :attr:`StoreStats.dropped` and return False.
        """
        slots = self._running_slots()
        if not wait and slots.locked():
            self._dropped += 1
            return False
        await slots.acquire()
        if self._closed:
            slots.release()
            raise StoreError(self.path, "the store is closed")
        self._queued += 1
        self._worker.write(result)
        return True

    async def results(
        self,
        check_id: str,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 1000,
    ) -> list[CheckResult]:
        """The newest ``limit`` results of ``check_id`` started in ``[since, until)``, newest first.

        Observations and errors come back as they went in (stored as JSON).
        """
        query = functools.partial(
            read_results, check_id=check_id, since=since, until=until, limit=limit
        )
        return await self._call(query, "reading results")

    async def rollups(
        self,
        check_id: str,
        resolution: Resolution,
        *,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Rollup]:
        """Roll-ups of ``check_id`` whose bucket starts in ``[since, until)``, oldest first.

        A roll-up whose latency sketch is damaged is left out and counted in
        :attr:`StoreStats.corrupt_sketches`.
        """
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be 'hour' or 'day', not {resolution!r}")
        query = functools.partial(
            read_rollups,
            check_id=check_id,
            resolution=resolution,
            since=since,
            until=until,
            on_bad_sketch=self._bad_sketch,
        )
        return await self._call(query, "reading roll-ups")

    async def uptime(self, check_id: str, *, days: int = 90) -> list[UptimeDay]:
        """One entry per UTC day for the last ``days`` days (today last), zero-filled."""
        today = bucket_start(self._clock.time(), "day")
        first = today - (days - 1) * _DAY
        query = functools.partial(read_uptime, check_id=check_id, first=first, last=today)
        found = await self._call(query, "reading uptime")
        days_out: list[UptimeDay] = []
        for start in range(first, today + 1, _DAY):
            count, failures = found.get(start, (0, 0))
            days_out.append(UptimeDay(start=float(start), count=count, failures=failures))
        return days_out

    async def save_state(self, check_id: str, state: dict[str, Any]) -> None:
        """Persist ``state`` (JSON-serializable) as the threshold/alert state of ``check_id``."""
        text = json.dumps(state, separators=(",", ":"), sort_keys=True)
        now = self._clock.time()

        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO check_state (check_id, state, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (check_id) DO UPDATE SET state = excluded.state, "
                "updated_at = excluded.updated_at",
                (check_id, text, now),
            )

        await self._call(write, "saving check state")

    async def load_states(self) -> dict[str, dict[str, Any]]:
        """Every saved state, by check id."""

        def query(connection: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            rows = connection.execute("SELECT check_id, state FROM check_state")
            return {check_id: json.loads(text) for check_id, text in rows}

        return await self._call(query, "loading check states")

    async def prune(self) -> int:
        """Delete results and roll-ups older than their retention now; returns the rows deleted.

        The timer calls this too; calls never overlap.
        """
        self._running_slots()
        return await self._pruner.prune()

    # ------------------------------------------------------------ plumbing

    def _bad_sketch(self, error: SketchError) -> None:
        """Count a damaged sketch (called on the worker thread); the first is logged."""
        self._corrupt += 1
        level = logging.WARNING if self._corrupt == 1 else logging.DEBUG
        _log.log(level, "history store %s: damaged latency sketch skipped: %s", self.path, error)

    def _running_slots(self) -> asyncio.Semaphore:
        if self._slots is None or self._closed:
            raise StoreError(self.path, "the store is not open (call open() first)")
        return self._slots

    async def _call(self, job: Callable[[sqlite3.Connection], _T], doing: str) -> _T:
        self._running_slots()
        return await asyncio.wrap_future(self._worker.submit(job, doing))

    def _batch_done(self, count: int) -> None:
        """Called on the worker thread once a batch of ``count`` results is settled."""
        loop = self._loop
        # A closed loop raises RuntimeError: nobody is waiting for a slot any more.
        with contextlib.suppress(RuntimeError):
            if loop is not None:
                loop.call_soon_threadsafe(self._release, count)

    def _release(self, count: int) -> None:
        self._queued -= count
        if self._slots is not None:
            for _ in range(count):
                self._slots.release()
