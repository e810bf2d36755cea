"""The one scheduler for every synthetic check.

Tens of thousands of checks share one event loop, so the scheduler keeps a single
min-heap of ``(next_run, seq, id)`` and only ever looks at its top: a run costs
O(log n), never a scan of all checks. Removed or replaced checks leave their heap
entries behind (``seq`` no longer matches) and are dropped when they surface.

Each check lives on a fixed grid, ``origin + n * interval``, with ``origin`` drawn
uniformly from the first interval so checks added together do not fire together.
The next slot follows from the grid, never from when a run finished, so there is no
drift. A run still in flight at its next slot makes that slot skipped (a check never
overlaps itself); a scheduler that fell more than one interval behind jumps each check
to its next future slot instead of bursting through the missed ones. Runs are
bounded per kind by semaphores; waiting for a permit counts as lateness, which is
what the lateness figures are for: they show when the scheduler cannot keep up.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import logging
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from healthwatch.aio.clock import Clock
from healthwatch.model.metrics import Histogram, Sample

__all__ = ["LATENESS_BUCKETS", "ScheduledCheck", "Scheduler", "SchedulerStats"]

_log = logging.getLogger("healthwatch.checks.scheduler")

LATENESS_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""Upper bounds (seconds) of the lateness histogram: a healthy scheduler stays in the first
few; the rest show by how much an overloaded one falls behind."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledCheck:
    """What the scheduler needs to know about a check; the rest belongs to ``run``."""

    id: str
    """Unique name of the check; ``remove`` and ``replace`` address it by this."""
    kind: str
    """The kind (``http``, ``exec``...): selects the concurrency limit."""
    interval: float
    """Seconds between planned runs."""
    timeout: float
    """Seconds a run may take; enforced by ``run``, which reports the failure."""

    def __post_init__(self) -> None:
        if not self.interval > 0 or math.isinf(self.interval):
            raise ValueError(f"check {self.id!r}: interval must be positive, got {self.interval}")
        if not self.timeout > 0:
            raise ValueError(f"check {self.id!r}: timeout must be positive, got {self.timeout}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerStats:
    """A snapshot of the scheduler's counters, for metrics and the status page."""

    scheduled: int
    """Checks currently scheduled."""
    started: int
    """Runs that got their permit and began."""
    completed: int
    """Runs that returned."""
    failed: int
    """Runs that raised: a bug in ``run``, which should report failures itself."""
    cancelled: int
    """Runs cancelled (by ``stop``)."""
    skipped_overlap: int
    """Slots skipped because the check's previous run was still in flight."""
    skipped_behind: int
    """Slots skipped because the scheduler fell more than one interval behind."""
    late: int
    """Runs that started more than ``late_after`` seconds after their slot."""
    lateness_p50: float | None
    """Median lateness of recent runs in seconds (None before any run)."""
    lateness_p99: float | None
    """99th percentile lateness of recent runs in seconds."""
    in_flight: Mapping[str, int]
    """Runs holding a permit, per kind."""
    waiting: Mapping[str, int]
    """Runs waiting for a permit, per kind."""


@dataclass(slots=True)
class _Entry:
    """A scheduled check and where it stands on its grid."""

    check: ScheduledCheck
    origin: float
    n: int
    seq: int

    @property
    def slot(self) -> float:
        # Multiplying from the origin instead of adding intervals: no float creep either.
        return self.origin + self.n * self.check.interval


class Scheduler:
    """Runs every check once per interval on its own grid, within per-kind limits.

    All methods are called from the event loop's thread. ``run`` receives the check;
    it should never raise (an exception is logged and counted as ``failed``).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        run: Callable[[ScheduledCheck], Awaitable[None]],
        concurrency: Mapping[str, int],
        default_concurrency: int = 64,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        late_after: float = 1.0,
        late_log_every: float = 60.0,
        lateness_samples: int = 4096,
    ) -> None:
        for kind, limit in {**concurrency, "default": default_concurrency}.items():
            if limit < 1:
                raise ValueError(f"concurrency for {kind!r} must be at least 1, got {limit}")
        self._clock = clock
        self._run = run
        self._limits = dict(concurrency)
        self._default_limit = default_concurrency
        self._rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter, not crypto
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._late_after = late_after
        self._late_log_every = late_log_every
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._runs: dict[str, asyncio.Task[None]] = {}  # the run in flight of each check
        self._lateness: deque[float] = deque(maxlen=lateness_samples)
        self._histogram = Histogram(LATENESS_BUCKETS)  # every run since the start
        self._in_flight: dict[str, int] = {}
        self._waiting: dict[str, int] = {}
        self._counts = dict.fromkeys(
            ("started", "completed", "failed", "cancelled", "overlap", "behind", "late"), 0
        )
        self._late_unlogged = 0
        self._late_worst = 0.0
        self._late_logged_at = -math.inf
        self._failed_logged_at = -math.inf
        self._loop_task: asyncio.Task[None] | None = None
        self._sleeping = False
        self._wake_at = math.inf  # when the sleeping loop plans to wake (inf: only when woken)
        self._wake_pending = False
        self._stopping = False

    # ------------------------------------------------------------ the set of checks

    def add(self, check: ScheduledCheck) -> None:
        """Schedule ``check``; its first run falls at random within its first interval."""
        if check.id in self._entries:
            raise ValueError(f"check {check.id!r} is already scheduled; use replace()")
        origin = self._clock.monotonic() + self._rng.random() * check.interval
        self._push(_Entry(check, origin, 0, 0))

    def remove(self, check_id: str) -> bool:
        """Stop scheduling a check (a run in flight finishes); False if it was unknown."""
        return self._entries.pop(check_id, None) is not None

    def replace(self, check: ScheduledCheck) -> None:
        """Swap in a new spec for a scheduled check.

        With the same interval the check keeps its phase; with another it is spread
        afresh. A run in flight still blocks the next, so the check never overlaps itself.
        """
        old = self._entries.get(check.id)
        if old is None:
            raise KeyError(f"check {check.id!r} is not scheduled")
        if check.interval == old.check.interval:
            entry = _Entry(check, old.origin, old.n, 0)
        else:
            origin = self._clock.monotonic() + self._rng.random() * check.interval
            entry = _Entry(check, origin, 0, 0)
        self._push(entry)

    def limit(self, kind: str) -> int:
        """How many runs of ``kind`` may be in flight at once."""
        return self._limits.get(kind, self._default_limit)

    def _push(self, entry: _Entry) -> None:
        self._seq += 1
        entry.seq = self._seq
        self._entries[entry.check.id] = entry
        due = entry.slot
        heapq.heappush(self._heap, (due, entry.seq, entry.check.id))
        if len(self._heap) > 2 * len(self._entries) + 1024:  # too many dead entries: compact
            self._heap = [(e.slot, e.seq, i) for i, e in self._entries.items()]
            heapq.heapify(self._heap)
        if due < self._wake_at:
            self._wake()

    # ------------------------------------------------------------ the loop

    async def run_forever(self) -> None:
        """Start every run as it falls due, until ``stop`` (a stopped scheduler stays stopped)."""
        if self._loop_task is not None:
            raise RuntimeError("the scheduler is already running")
        self._loop_task = asyncio.current_task()
        try:
            while not self._stopping:
                self._dispatch(self._clock.monotonic())
                due = self._next_due()
                delay = math.inf if due is None else due - self._clock.monotonic()
                if delay > 0 or due is None:
                    await self._pause(due, delay)
                else:  # the clock passed the next slot while dispatching: let runs start first
                    await asyncio.sleep(0)
        finally:
            self._loop_task = None

    async def _pause(self, due: float | None, delay: float) -> None:
        """Sleep until ``due``, or until ``_wake`` cancels the sleep for an earlier check.

        Waking cancels this task and takes the cancellation back (``uncancel``), as
        ``asyncio.timeout`` does; a cancellation from outside is passed on. No task
        per sleep: this runs once per distinct due time.
        """
        self._sleeping = True
        self._wake_at = math.inf if due is None else due
        try:
            if due is None:
                await asyncio.get_running_loop().create_future()  # until add() or stop()
            else:
                await self._sleep(delay)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self._wake_pending or task is None or task.uncancel() > 0:
                raise
        finally:
            self._sleeping = False
            self._wake_at = math.inf
            self._wake_pending = False

    def _wake(self) -> None:
        task = self._loop_task
        if task is not None and self._sleeping and not self._wake_pending:
            self._wake_pending = True
            task.cancel()

    def _next_due(self) -> float | None:
        heap = self._heap
        while heap:
            _, seq, check_id = heap[0]
            entry = self._entries.get(check_id)
            if entry is not None and entry.seq == seq:
                return heap[0][0]
            heapq.heappop(heap)  # removed or replaced since it was pushed
        return None

    def _dispatch(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, check_id = heapq.heappop(heap)
            entry = self._entries.get(check_id)
            if entry is None or entry.seq != seq:
                continue
            interval = entry.check.interval
            behind = now - entry.slot
            if behind >= interval:
                # Far behind: rejoin the grid at the next future slot, no burst.
                skip = math.floor(behind / interval) + 1
                while entry.origin + (entry.n + skip) * interval <= now:
                    skip += 1
                entry.n += skip
                self._counts["behind"] += skip
            elif (running := self._runs.get(check_id)) is not None and not running.done():
                entry.n += 1
                self._counts["overlap"] += 1
            else:
                self._start(entry.check, entry.slot)
                entry.n += 1
            self._seq += 1
            entry.seq = self._seq
            heapq.heappush(heap, (entry.slot, entry.seq, check_id))

    def _start(self, check: ScheduledCheck, slot: float) -> None:
        # Only runs in flight are referenced: with tens of thousands of checks, keeping
        # each one's finished task (and asyncio's weak reference to it) costs megabytes.
        task = asyncio.create_task(self._execute(check, slot), name=f"check-run:{check.id}")
        self._runs[check.id] = task
        task.add_done_callback(functools.partial(self._finished, check.id))

    def _finished(self, check_id: str, task: asyncio.Task[None]) -> None:
        if self._runs.get(check_id) is task:
            del self._runs[check_id]

    async def _execute(self, check: ScheduledCheck, slot: float) -> None:
        """One run: wait for a permit, note the lateness, run, count the outcome."""
        kind = check.kind
        semaphore = self._semaphores.get(kind)
        if semaphore is None:
            semaphore = asyncio.Semaphore(self.limit(kind))
            self._semaphores[kind] = semaphore
        self._waiting[kind] = self._waiting.get(kind, 0) + 1
        try:
            await semaphore.acquire()
        except asyncio.CancelledError:
            self._counts["cancelled"] += 1
            raise
        finally:
            self._waiting[kind] -= 1
        self._in_flight[kind] = self._in_flight.get(kind, 0) + 1
        try:
            self._note_lateness(self._clock.monotonic() - slot)
            self._counts["started"] += 1
            await self._run(check)
        except asyncio.CancelledError:
            self._counts["cancelled"] += 1
            raise
        except Exception:
            self._counts["failed"] += 1
            self._log_failure(check)
        else:
            self._counts["completed"] += 1
        finally:
            self._in_flight[kind] -= 1
            semaphore.release()

    def _note_lateness(self, lateness: float) -> None:
        self._lateness.append(lateness)
        self._histogram.observe(lateness)
        if lateness <= self._late_after:
            return
        self._counts["late"] += 1
        self._late_unlogged += 1
        self._late_worst = max(self._late_worst, lateness)
        now = self._clock.monotonic()
        if now - self._late_logged_at >= self._late_log_every:
            _log.warning(
                "%d check run(s) started more than %.1fs after their slot (worst %.1fs); "
                "the scheduler cannot keep up: raise concurrency or lengthen intervals",
                self._late_unlogged,
                self._late_after,
                self._late_worst,
            )
            self._late_logged_at = now
            self._late_unlogged = 0
            self._late_worst = 0.0

    def _log_failure(self, check: ScheduledCheck) -> None:
        now = self._clock.monotonic()
        if now - self._failed_logged_at >= self._late_log_every:  # a broken runner: no spam
            self._failed_logged_at = now
            _log.exception(
                "check %r (%s): the run raised instead of reporting a failure "
                "(%d runs raised so far; logged at most every %.0fs)",
                check.id,
                check.kind,
                self._counts["failed"],
                self._late_log_every,
            )

    # ------------------------------------------------------------ shutdown and stats

    async def stop(self, *, grace: float = 5.0) -> bool:
        """End ``run_forever``, cancel runs in flight and wait up to ``grace`` seconds for them.

        Returns False if some run ignored its cancellation for that long.
        """
        self._stopping = True
        self._wake()
        tasks = list(self._runs.values())
        for task in tasks:
            task.cancel()
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=grace)
        if pending:
            _log.warning("%d check run(s) still running %.1fs after stop", len(pending), grace)
        return not pending

    def lateness(self, labels: Mapping[str, str]) -> Sample:
        """The lateness of every run since the start, as a histogram sample.

        The percentiles in :meth:`stats` cover only the latest runs; this one can be
        rated over any window (``histogram_quantile`` over ``rate()`` of its buckets).
        """
        return self._histogram.sample(labels)

    def stats(self) -> SchedulerStats:
        """The counters now; percentiles are over the most recent runs."""
        samples = sorted(self._lateness)
        c = self._counts
        return SchedulerStats(
            scheduled=len(self._entries),
            started=c["started"],
            completed=c["completed"],
            failed=c["failed"],
            cancelled=c["cancelled"],
            skipped_overlap=c["overlap"],
            skipped_behind=c["behind"],
            late=c["late"],
            lateness_p50=_percentile(samples, 0.50),
            lateness_p99=_percentile(samples, 0.99),
            in_flight={k: v for k, v in self._in_flight.items() if v},
            waiting={k: v for k, v in self._waiting.items() if v},
        )


def _percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
