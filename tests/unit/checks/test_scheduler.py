"""The check scheduler on simulated time: spread, no drift, skips, limits, lateness, scale.

Time is a :class:`ManualClock` moved by :class:`FakeTime`, a small discrete-event
simulator: the scheduler's injected ``sleep`` advances the clock, firing on the way
the timers that runs wait on, and parks at a horizon the test sets. Nothing sleeps
in real time; the only yields are ``asyncio.sleep(0)``.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from healthwatch.aio import ManualClock
from healthwatch.checks.scheduler import ScheduledCheck, Scheduler

START = 1000.0


class FakeTime:
    """Simulated time for one scheduler and the runs it starts."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.horizon = START
        self.parked = asyncio.Event()
        self._resume: asyncio.Future[None] | None = None
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def _advance_to(self, when: float) -> None:
        now = self.clock.monotonic()
        if when > now:
            self.clock.advance(when - now)

    async def _yield(self) -> None:
        for _ in range(4):  # let woken runs finish and hand on their permits
            await asyncio.sleep(0)

    async def sleep(self, delay: float) -> None:
        """The scheduler's sleep: fire due timers on the way, park past the horizon."""
        await asyncio.sleep(0)  # runs just started begin before time moves, as in real time
        target = self.clock.monotonic() + max(delay, 0.0)
        while True:
            limit = min(target, self.horizon)
            while self._timers and self._timers[0][0] <= limit:
                at, _, fut = heapq.heappop(self._timers)
                self._advance_to(at)
                if not fut.done():
                    fut.set_result(None)
                await self._yield()
            self._advance_to(limit)
            if target <= self.horizon:
                break
            self._resume = asyncio.get_running_loop().create_future()
            self.parked.set()
            await self._resume

    async def wait(self, seconds: float) -> None:
        """What a run awaits to take ``seconds`` of simulated time."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._timers, (self.clock.monotonic() + seconds, self._seq, fut))
        await fut

    async def run_to(self, horizon: float) -> None:
        """Let simulated time run up to ``horizon`` and wait until the scheduler gets there."""
        self.horizon = horizon
        self.parked.clear()
        if self._resume is not None and not self._resume.done():
            self._resume.set_result(None)
        await asyncio.wait_for(self.parked.wait(), timeout=10)  # a bound, not a sleep


@asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[asyncio.Task[None]]:
    """Run the scheduler loop for the block; stop it and check it ended cleanly."""
    task = asyncio.create_task(scheduler.run_forever(), name="scheduler")
    try:
        yield task
    finally:
        assert await scheduler.stop()
        await asyncio.wait_for(task, timeout=5)


@pytest.fixture
def clock() -> ManualClock:
    """The scheduler's clock, at ``START``."""
    return ManualClock(monotonic=START)


@pytest.fixture
def fake(clock: ManualClock) -> FakeTime:
    """Simulated time on ``clock``."""
    return FakeTime(clock)


class Recorder:
    """A ``run`` that notes when each check started, optionally taking simulated time."""

    def __init__(self, clock: ManualClock, fake: FakeTime, *, takes: float = 0.0) -> None:
        self.clock = clock
        self.fake = fake
        self.takes = takes
        self.starts: dict[str, list[float]] = {}
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()

    async def __call__(self, check: ScheduledCheck) -> None:
        self.starts.setdefault(check.id, []).append(self.clock.monotonic())
        self.in_flight[check.kind] += 1
        self.max_in_flight[check.kind] = max(
            self.max_in_flight[check.kind], self.in_flight[check.kind]
        )
        try:
            if self.takes:
                await self.fake.wait(self.takes)
        finally:
            self.in_flight[check.kind] -= 1


def make(
    clock: ManualClock,
    fake: FakeTime,
    run: Callable[[ScheduledCheck], Awaitable[None]],
    *,
    concurrency: dict[str, int] | None = None,
    default_concurrency: int = 64,
    rng: random.Random | None = None,
    late_log_every: float = 60.0,
) -> Scheduler:
    """A scheduler on simulated time with seeded jitter."""
    return Scheduler(
        clock=clock,
        run=run,
        concurrency=concurrency or {},
        default_concurrency=default_concurrency,
        rng=rng or random.Random(7),  # noqa: S311 - reproducible spread
        sleep=fake.sleep,
        late_log_every=late_log_every,
    )


class FixedRandom(random.Random):
    """Jitter that always draws the same fraction of the interval."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction

    def random(self) -> float:
        """Always ``fraction``."""
        return self.fraction


def check(i: int | str, *, kind: str = "http", interval: float = 10.0) -> ScheduledCheck:
    """A check named after ``i``."""
    return ScheduledCheck(id=f"c{i}", kind=kind, interval=interval, timeout=1.0)


EPS = 1e-6


def on_grid(starts: list[float], interval: float) -> bool:
    """Every start is a whole number of intervals after the first."""
    first = starts[0]
    return all(abs((t - first) / interval - round((t - first) / interval)) < 1e-9 for t in starts)


async def test_first_runs_spread_uniformly_over_the_interval(
    clock: ManualClock, fake: FakeTime
) -> None:
    recorder = Recorder(clock, fake)
    scheduler = make(clock, fake, recorder)
    for i in range(2000):
        scheduler.add(check(i))
    async with running(scheduler):
        await fake.run_to(START + 10 - EPS)
    firsts = [starts[0] for starts in recorder.starts.values()]
    assert len(firsts) == 2000
    assert all(len(starts) == 1 for starts in recorder.starts.values())
    assert all(START <= t < START + 10 for t in firsts)
    buckets = Counter(int(t - START) for t in firsts)
    assert sorted(buckets) == list(range(10))
    assert all(140 < n < 260 for n in buckets.values()), buckets  # 200 expected each


async def test_no_drift_over_a_thousand_intervals(clock: ManualClock, fake: FakeTime) -> None:
    recorder = Recorder(clock, fake, takes=0.4)  # finishing late must not shift the grid
    scheduler = make(clock, fake, recorder)
    for i in range(3):
        scheduler.add(check(i, interval=1.5))
    async with running(scheduler):
        await fake.run_to(START + 1000 * 1.5 - EPS)
    for starts in recorder.starts.values():
        assert len(starts) == 1000
        assert abs(starts[-1] - (starts[0] + 999 * 1.5)) < 1e-9
        assert on_grid(starts, 1.5)
    stats = scheduler.stats()
    assert (stats.started, stats.completed + stats.cancelled, stats.late) == (3000, 3000, 0)
    assert stats.lateness_p99 == pytest.approx(0.0, abs=1e-9)


async def test_a_run_longer_than_its_interval_skips_slots_instead_of_overlapping(
    clock: ManualClock, fake: FakeTime
) -> None:
    recorder = Recorder(clock, fake, takes=25.0)
    scheduler = make(clock, fake, recorder)
    scheduler.add(check(0))
    async with running(scheduler):
        await fake.run_to(START + 100 - EPS)  # slots 0..9; each run covers two more slots
        stats = scheduler.stats()
    starts = recorder.starts["c0"]
    assert [round(t - starts[0], 9) for t in starts] == [0, 30, 60, 90]
    assert recorder.max_in_flight["http"] == 1
    assert (stats.started, stats.completed, stats.skipped_overlap) == (4, 3, 6)
    assert stats.in_flight == {"http": 1}
    assert scheduler.stats().cancelled == 1  # the run in flight at stop()


async def test_concurrency_is_bounded_per_kind(clock: ManualClock, fake: FakeTime) -> None:
    recorder = Recorder(clock, fake, takes=5.0)  # demand far above the limits
    scheduler = make(
        clock, fake, recorder, concurrency={"http": 5, "exec": 2}, default_concurrency=3
    )
    for i in range(20):
        scheduler.add(check(f"h{i}", kind="http"))
        scheduler.add(check(f"e{i}", kind="exec"))
        scheduler.add(check(f"d{i}", kind="dns"))
    async with running(scheduler):
        await fake.run_to(START + 35)
        stats = scheduler.stats()
    assert recorder.max_in_flight == {"http": 5, "exec": 2, "dns": 3}
    assert stats.in_flight == {"http": 5, "exec": 2, "dns": 3}
    assert set(stats.waiting) == {"http", "exec", "dns"}
    assert stats.late > 0
    after = scheduler.stats()
    assert after.in_flight == {} and after.waiting == {}


async def test_waiting_for_a_permit_counts_as_lateness(
    clock: ManualClock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(clock, fake, takes=2.0)
    scheduler = make(
        clock, fake, recorder, concurrency={"exec": 1}, rng=FixedRandom(0.0)
    )  # all three due at START, one permit: they start at +0, +2, +4
    for i in range(3):
        scheduler.add(check(i, kind="exec", interval=100))
    with caplog.at_level(logging.WARNING, logger="healthwatch.checks.scheduler"):
        async with running(scheduler):
            await fake.run_to(START + 50)
    assert [recorder.starts[f"c{i}"] for i in range(3)] == [[START], [START + 2], [START + 4]]
    stats = scheduler.stats()
    assert stats.late == 2
    assert (stats.lateness_p50, stats.lateness_p99) == (2.0, 4.0)
    late_logs = [r for r in caplog.records if "after their slot" in r.getMessage()]
    assert len(late_logs) == 1  # once per late_log_every, not once per late run


async def test_a_raising_run_is_counted_and_the_loop_goes_on(
    clock: ManualClock, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(clock, fake)

    async def run(c: ScheduledCheck) -> None:
        await recorder(c)
        if c.id == "c0":
            raise RuntimeError("runner bug")

    scheduler = make(clock, fake, run)
    scheduler.add(check(0, interval=1))
    scheduler.add(check(1, interval=1))
    with caplog.at_level(logging.ERROR, logger="healthwatch.checks.scheduler"):
        async with running(scheduler) as loop_task:
            await fake.run_to(START + 10 - EPS)
            assert not loop_task.done()
    stats = scheduler.stats()
    assert (stats.started, stats.failed, stats.completed) == (20, 10, 10)
    assert len(recorder.starts["c0"]) == len(recorder.starts["c1"]) == 10
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None


async def test_remove_and_replace_change_future_runs(clock: ManualClock, fake: FakeTime) -> None:
    recorder = Recorder(clock, fake)
    scheduler = make(clock, fake, recorder)
    for i in range(3):
        scheduler.add(check(i))
    async with running(scheduler):
        await fake.run_to(START + 25)
        assert scheduler.remove("c0")
        assert not scheduler.remove("c0")
        scheduler.replace(check(1, interval=1))  # new interval: spread afresh
        scheduler.replace(check(2, kind="exec"))  # same interval: same phase
        with pytest.raises(ValueError, match="already scheduled"):
            scheduler.add(check(2))
        with pytest.raises(KeyError, match="c9"):
            scheduler.replace(check(9))
        await fake.run_to(START + 55)
    assert len(recorder.starts["c0"]) in {2, 3}
    assert all(t <= START + 25 for t in recorder.starts["c0"])
    c1_after = [t for t in recorder.starts["c1"] if t > START + 25]
    assert len(c1_after) == 30 and on_grid(c1_after, 1.0)
    assert len(recorder.starts["c2"]) in {5, 6} and on_grid(recorder.starts["c2"], 10)
    assert scheduler.stats().scheduled == 2


async def test_adding_an_earlier_check_wakes_the_sleeping_loop(
    clock: ManualClock, fake: FakeTime
) -> None:
    recorder = Recorder(clock, fake)
    scheduler = make(clock, fake, recorder, rng=FixedRandom(0.9))
    async with running(scheduler):
        await asyncio.sleep(0)  # the loop waits with nothing scheduled
        scheduler.add(check("far", interval=1000))  # first run at +900
        await fake.run_to(START + 10)
        scheduler.add(check("near", interval=5))  # first run at 10 + 4.5
        await fake.run_to(START + 30)
    assert recorder.starts == {"cnear": [START + 14.5, START + 19.5, START + 24.5, START + 29.5]}


async def test_after_a_stall_checks_rejoin_their_grid_without_a_burst(
    clock: ManualClock, fake: FakeTime
) -> None:
    recorder = Recorder(clock, fake)
    scheduler = make(clock, fake, recorder)
    for i in range(100):
        scheduler.add(check(i))
    async with running(scheduler):
        await fake.run_to(START + 20)
        clock.advance(95)  # the loop was blocked for 95 s
        await fake.run_to(START + 200 - EPS)
    expected_skipped = 0
    for starts in recorder.starts.values():
        origin = starts[0]
        assert on_grid(starts, 10)
        assert not [t for t in starts if START + 20 < t <= START + 115]
        resumed = [t for t in starts if t > START + 115]
        assert resumed[0] < START + 125  # the first future slot, not a later one
        expected_skipped += sum(1 for k in range(2, 20) if origin + 10 * k <= START + 115)
    stats = scheduler.stats()
    assert stats.skipped_behind == expected_skipped
    assert stats.late == 0  # no catch-up run fired off its slot
    assert stats.started == sum(len(s) for s in recorder.starts.values())


async def test_twenty_thousand_checks_each_run_once_per_interval(
    clock: ManualClock, fake: FakeTime
) -> None:
    counts: Counter[str] = Counter()

    async def run(c: ScheduledCheck) -> None:
        counts[c.id] += 1

    scheduler = make(clock, fake, run)
    began = time.perf_counter()
    for i in range(20_000):
        scheduler.add(check(i))
    async with running(scheduler):
        await fake.run_to(START + 20 - EPS)  # two intervals: 40,000 runs
    elapsed = time.perf_counter() - began
    stats = scheduler.stats()
    assert len(counts) == 20_000 and set(counts.values()) == {2}
    assert (stats.scheduled, stats.started, stats.completed, stats.failed) == (
        20_000,
        40_000,
        40_000,
        0,
    )
    assert (stats.skipped_overlap, stats.skipped_behind, stats.late) == (0, 0, 0)
    assert elapsed < 3.0, f"{elapsed:.2f}s"


async def test_stop_cancels_runs_waiting_for_a_permit(clock: ManualClock, fake: FakeTime) -> None:
    recorder = Recorder(clock, fake, takes=50.0)
    scheduler = make(clock, fake, recorder, default_concurrency=1, rng=FixedRandom(0.0))
    for i in range(3):
        scheduler.add(check(i))
    async with running(scheduler):
        await fake.run_to(START + 5)
        assert scheduler.stats().waiting == {"http": 2}
    stats = scheduler.stats()
    assert (stats.started, stats.cancelled, stats.in_flight, stats.waiting) == (1, 3, {}, {})


async def test_run_forever_refuses_to_run_twice(clock: ManualClock, fake: FakeTime) -> None:
    scheduler = make(clock, fake, Recorder(clock, fake))
    async with running(scheduler):
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already running"):
            await scheduler.run_forever()


@pytest.mark.parametrize(
    ("interval", "timeout", "message"),
    [(0.0, 1.0, "interval"), (float("inf"), 1.0, "interval"), (1.0, -1.0, "timeout")],
)
def test_check_specs_are_validated(interval: float, timeout: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScheduledCheck(id="x", kind="http", interval=interval, timeout=timeout)


def test_concurrency_limits_are_validated(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="'exec'"):
        Scheduler(clock=clock, run=Recorder(clock, FakeTime(clock)), concurrency={"exec": 0})
