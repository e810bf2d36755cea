"""The history store: check results, roll-ups and alert state in one SQLite file.

SQLite calls block, so every one of them runs on a single dedicated thread that
owns the connection; the event loop talks to it through a FIFO of jobs and
awaits the answers. Results are written in batches, and the number waiting is
bounded: when the queue is full ``add_result`` waits (backpressure), or with
``wait=False`` drops the result and counts it. Because one thread runs every job
in order, a query sees every result added before it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from healthwatch.aio.clock import Clock
from healthwatch.model.checks import CheckResult, Observation
from healthwatch.store.rollups import (
    RESOLUTIONS,
    LatencySketch,
    Resolution,
    Rollup,
    UptimeDay,
    bucket_start,
)
from healthwatch.store.schema import StoreError, connect, translate

__all__ = ["HistoryStore", "StoreStats"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_BATCH: Final = 500
_STOP: Final = object()
_DAY: Final = RESOLUTIONS["day"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """A call to run on the worker thread, and where its answer goes."""

    run: Callable[[sqlite3.Connection], Any]
    future: concurrent.futures.Future[Any]
    doing: str
    """What the call does, for error messages (``reading results``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreStats:
    """Counters of the store since it was opened."""

    written: int
    """Results committed to the file."""
    dropped: int
    """Results refused with ``wait=False`` because the queue was full."""
    errors: int
    """Results lost because their batch could not be written."""
    queue_length: int
    """Results waiting to be written."""


class HistoryStore:
    """Keeps check results, hourly and daily roll-ups, and per-check state in ``path``.

    Use ``async with HistoryStore(...) as store`` or ``await store.open()`` …
    ``await store.close()``. Raw results are kept ``raw_retention`` seconds and
    roll-ups ``rollup_retention`` seconds, applied by :meth:`prune`.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock,
        raw_retention: float = 30 * 86400,
        rollup_retention: float = 366 * 86400,
        max_queue: int = 1000,
        busy_timeout: float = 5.0,
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, not {max_queue}")
        self.path = path
        self._clock = clock
        self._raw_retention = raw_retention
        self._rollup_retention = rollup_retention
        self._max_queue = max_queue
        self._busy_timeout = busy_timeout
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopped: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._closed = False
        self._written = 0
        self._dropped = 0
        self._errors = 0
        self._queued = 0

    async def __aenter__(self) -> HistoryStore:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Create or open the file, check it and migrate it; raises :class:`StoreError`."""
        if self._thread is not None:
            raise RuntimeError("HistoryStore.open() called twice")
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self._max_queue)
        opened: concurrent.futures.Future[sqlite3.Connection] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run,
            args=(opened,),
            name=f"healthwatch-store:{self.path.name}",
            daemon=True,
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(opened)
        except BaseException:
            self._closed = True
            await asyncio.wrap_future(self._stopped)
            raise

    async def close(self) -> None:
        """Write what is queued, then close the file. Idempotent."""
        if self._thread is None or self._closed:
            self._closed = True
            return
        self._closed = True
        self._jobs.put(_STOP)
        await asyncio.wrap_future(self._stopped)

    def stats(self) -> StoreStats:
        """The counters so far."""
        return StoreStats(
            written=self._written,
            dropped=self._dropped,
            errors=self._errors,
            queue_length=self._queued,
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
        self._jobs.put(result)
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

        def query(connection: sqlite3.Connection) -> list[CheckResult]:
            rows = connection.execute(
                "SELECT check_id, run_id, ok, errors, started_at, duration, observations "
                "FROM results WHERE check_id = ? AND started_at >= ? AND started_at < ? "
                "ORDER BY started_at DESC, id DESC LIMIT ?",
                (check_id, _lower(since), _upper(until), limit),
            ).fetchall()
            return [_result_from_row(row) for row in rows]

        return await self._call(query, "reading results")

    async def rollups(
        self,
        check_id: str,
        resolution: Resolution,
        *,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Rollup]:
        """Roll-ups of ``check_id`` whose bucket starts in ``[since, until)``, oldest first."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be 'hour' or 'day', not {resolution!r}")

        def query(connection: sqlite3.Connection) -> list[Rollup]:
            rows = connection.execute(
                "SELECT start, count, failures, sketch FROM rollups "
                "WHERE check_id = ? AND resolution = ? AND start >= ? AND start < ? "
                "ORDER BY start",
                (check_id, resolution, _lower(since), _upper(until)),
            ).fetchall()
            return [_rollup_from_row(check_id, row) for row in rows]

        return await self._call(query, "reading roll-ups")

    async def uptime(self, check_id: str, *, days: int = 90) -> list[UptimeDay]:
        """One entry per UTC day for the last ``days`` days (today last), zero-filled."""
        today = bucket_start(self._clock.time(), "day")
        first = today - (days - 1) * _DAY

        def query(connection: sqlite3.Connection) -> dict[int, tuple[int, int]]:
            rows = connection.execute(
                "SELECT start, count, failures FROM rollups "
                "WHERE check_id = ? AND resolution = 'day' AND start >= ? AND start <= ?",
                (check_id, first, today),
            )
            return {int(start): (count, failures) for start, count, failures in rows}

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
        """Delete results and roll-ups older than their retention; returns the rows deleted."""
        now = self._clock.time()

        def delete(connection: sqlite3.Connection) -> int:
            with _transaction(connection):
                raw = connection.execute(
                    "DELETE FROM results WHERE started_at < ?", (now - self._raw_retention,)
                ).rowcount
                rolled = connection.execute(
                    "DELETE FROM rollups WHERE start < ?", (now - self._rollup_retention,)
                ).rowcount
            return raw + rolled

        return await self._call(delete, "pruning")

    # ------------------------------------------------------------ event-loop side

    def _running_slots(self) -> asyncio.Semaphore:
        if self._slots is None or self._closed:
            raise StoreError(self.path, "the store is not open (call open() first)")
        return self._slots

    async def _call(self, job: Callable[[sqlite3.Connection], _T], doing: str) -> _T:
        self._running_slots()
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        self._jobs.put(_Job(run=job, future=future, doing=doing))
        return await asyncio.wrap_future(future)

    def _release(self, count: int) -> None:
        self._queued -= count
        if self._slots is not None:
            for _ in range(count):
                self._slots.release()

    # ------------------------------------------------------------ worker thread

    def _run(self, opened: concurrent.futures.Future[sqlite3.Connection]) -> None:
        try:
            try:
                connection = connect(self.path, busy_timeout=self._busy_timeout)
            except BaseException as error:
                opened.set_exception(error)
                return
            opened.set_result(connection)
            try:
                self._serve(connection)
            finally:
                connection.close()
        finally:
            self._stopped.set_result(None)

    def _serve(self, connection: sqlite3.Connection) -> None:
        while True:
            item = self._jobs.get()
            if isinstance(item, CheckResult):
                batch = [item]
                held: object = None
                while len(batch) < _BATCH:
                    try:
                        following = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(following, CheckResult):
                        batch.append(following)
                    else:
                        held = following
                        break
                self._write(connection, batch)
                if held is None:
                    continue
                item = held
            if item is _STOP:
                return
            if isinstance(item, _Job):
                self._run_job(connection, item)

    def _run_job(self, connection: sqlite3.Connection, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            job.future.set_result(job.run(connection))
        except sqlite3.Error as error:
            job.future.set_exception(translate(error, self.path, job.doing))
        except Exception as error:
            job.future.set_exception(error)

    def _write(self, connection: sqlite3.Connection, batch: list[CheckResult]) -> None:
        try:
            with _transaction(connection):
                connection.executemany(
                    "INSERT INTO results (check_id, run_id, started_at, duration, ok, errors, "
                    "observations) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [_row_from_result(result) for result in batch],
                )
                connection.executemany(
                    "INSERT INTO rollups (check_id, resolution, start, count, failures, sketch) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "count = count + excluded.count, failures = failures + excluded.failures, "
                    "sketch = hw_sketch_merge(sketch, excluded.sketch)",
                    _rollup_rows(batch),
                )
            self._written += len(batch)
        except sqlite3.Error as error:
            self._errors += len(batch)
            _log.error("%s; %d results lost", translate(error, self.path, "writing"), len(batch))
        finally:
            loop = self._loop
            # A closed loop raises RuntimeError: nobody is waiting for a slot any more.
            with contextlib.suppress(RuntimeError):
                if loop is not None:
                    loop.call_soon_threadsafe(self._release, len(batch))


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on error (autocommit connection)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _lower(since: float | None) -> float:
    return float("-inf") if since is None else since


def _upper(until: float | None) -> float:
    return float("inf") if until is None else until


def _row_from_result(result: CheckResult) -> tuple[object, ...]:
    observations = [
        {"condition": item.condition, "ok": item.ok, "observed": item.observed}
        for item in result.observations
    ]
    return (
        result.check_id,
        result.run_id,
        result.started_at,
        result.duration,
        int(result.ok),
        json.dumps(list(result.errors)),
        json.dumps(observations),
    )


def _result_from_row(row: tuple[Any, ...]) -> CheckResult:
    check_id, run_id, ok, errors, started_at, duration, observations = row
    return CheckResult(
        check_id=check_id,
        run_id=run_id,
        ok=bool(ok),
        errors=tuple(json.loads(errors)),
        started_at=started_at,
        duration=duration,
        observations=tuple(
            Observation(condition=item["condition"], ok=item["ok"], observed=item["observed"])
            for item in json.loads(observations)
        ),
    )


def _rollup_rows(batch: list[CheckResult]) -> list[tuple[object, ...]]:
    groups: dict[tuple[str, Resolution, int], tuple[list[int], LatencySketch]] = {}
    for result in batch:
        for resolution in RESOLUTIONS:
            key = (result.check_id, resolution, bucket_start(result.started_at, resolution))
            counts, sketch = groups.setdefault(key, ([0, 0], LatencySketch()))
            counts[0] += 1
            counts[1] += 0 if result.ok else 1
            sketch.add(result.duration)
    return [
        (check_id, resolution, start, counts[0], counts[1], sketch.dumps())
        for (check_id, resolution, start), (counts, sketch) in groups.items()
    ]


def _rollup_from_row(check_id: str, row: tuple[Any, ...]) -> Rollup:
    start, count, failures, text = row
    sketch = LatencySketch.loads(text)
    return Rollup(
        check_id=check_id,
        start=float(start),
        count=count,
        failures=failures,
        latency_p50=sketch.quantile(0.50),
        latency_p95=sketch.quantile(0.95),
        latency_p99=sketch.quantile(0.99),
        latency_max=sketch.maximum,
    )
