"""The plugin schedule on simulated time: boot batch, groups, no overlap, one catch-up, limits.

Time is a :class:`ManualClock` moved by :class:`FakeTime`: the scheduler's injected
``sleep`` and the fake plugins' work both wait on its timers, and ``advance`` moves
the clock from timer to timer, letting the loop settle at each. Nothing sleeps in
real time. The cases follow node-problem-detector's own scheduler tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.problems.pluginmonitor.schedule import PluginScheduler

START = 1000.0


class FakeTime:
    """Simulated time: timers on a heap, fired in order as the test advances the clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._timers, (self.clock.monotonic() + max(delay, 0.0), self._seq, future))
        await future

    @staticmethod
    async def settle() -> None:
        for _ in range(30):
            await asyncio.sleep(0)

    def _move_to(self, when: float) -> None:
        now = self.clock.monotonic()
        if when > now:
            self.clock.advance(when - now)

    async def advance(self, seconds: float) -> None:
        target = self.clock.monotonic() + seconds
        await self.settle()
        while self._timers and self._timers[0][0] <= target:
            at, _, future = heapq.heappop(self._timers)
            self._move_to(at)
            if not future.done():
                future.set_result(None)
            await self.settle()
        self._move_to(target)
        await self.settle()


@dataclass
class Rule:
    name: str
    interval: float
    takes: float = 0.0
    blockers: dict[int, asyncio.Event] = field(default_factory=dict)
    """Invocation number (1-based) → event it waits for before finishing."""


class Recorder:
    """The invoke callback: notes each start, takes simulated time, may block."""

    def __init__(self, fake: FakeTime) -> None:
        self.fake = fake
        self.starts: list[tuple[str, float, float]] = []
        """(rule, tick, clock at start)."""
        self.running = 0
        self.most = 0
        self.cancelled = 0

    def count(self, name: str) -> int:
        return sum(1 for rule, _, _ in self.starts if rule == name)

    def ticks(self, name: str) -> list[float]:
        return [tick - START for rule, tick, _ in self.starts if rule == name]

    async def __call__(self, rule: Rule, tick: float) -> None:
        self.starts.append((rule.name, tick, self.fake.clock.monotonic()))
        number = self.count(rule.name)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            if rule.takes:
                await self.fake.sleep(rule.takes)
            blocker = rule.blockers.get(number)
            if blocker is not None:
                await blocker.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(ManualClock(monotonic=START))


@contextlib.asynccontextmanager
async def running(
    rules: list[Rule], fake: FakeTime, *, concurrency: int = 3, recorder: Recorder | None = None
) -> AsyncIterator[tuple[PluginScheduler[Rule], Recorder]]:
    record = recorder or Recorder(fake)
    scheduler = PluginScheduler(
        rules,
        interval_of=lambda rule: rule.interval,
        invoke=record,
        concurrency=concurrency,
        clock=fake.clock,
        sleep=fake.sleep,
        label=lambda rule: rule.name,
        name="test",
    )
    task = asyncio.create_task(scheduler.run(), name="scheduler")
    await fake.settle()
    try:
        yield scheduler, record
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()


async def test_boot_runs_one_batch_then_each_group_on_its_grid(fake: FakeTime) -> None:
    short, long = Rule("short", 7.0), Rule("long", 30.0)
    async with running([short, long], fake) as (scheduler, record):
        assert [name for name, _, _ in record.starts] == ["short", "long"]
        await fake.advance(60.0)
        assert record.ticks("short") == [0, 7, 14, 21, 28, 35, 42, 49, 56]
        assert record.ticks("long") == [0, 30, 60]
        assert all(at == tick for _, tick, at in record.starts)  # nothing late
        assert set(scheduler.groups()) == {7.0, 30.0}


async def test_equal_intervals_share_a_group(fake: FakeTime) -> None:
    one, two = Rule("one", 10.0), Rule("two", 10.0)
    async with running([one, two], fake) as (scheduler, record):
        assert scheduler.groups() == {10.0: [one, two]}
        await fake.advance(20.0)
        assert record.ticks("one") == record.ticks("two") == [0, 10, 20]


async def test_no_drift_over_a_thousand_intervals(fake: FakeTime) -> None:
    rule = Rule("steady", 10.0, takes=3.3)
    async with running([rule], fake) as (_, record):
        for _ in range(100):
            await fake.advance(100.0)
        ticks = record.ticks("steady")
        assert len(ticks) == 1001
        assert ticks == [10.0 * k for k in range(1001)]
        assert all(at == tick for _, tick, at in record.starts)


async def test_a_rule_never_overlaps_itself_and_an_overrun_catches_up_once(
    fake: FakeTime,
) -> None:
    release = asyncio.Event()
    rule = Rule("slow", 5.0, blockers={2: release})
    async with running([rule], fake) as (scheduler, record):
        await fake.advance(5.0)
        assert record.count("slow") == 2
        await fake.advance(15.0)  # ticks at 10, 15, 20 pass while run 2 is stuck
        assert record.count("slow") == 2
        assert record.most == 1
        release.set()
        await fake.settle()
        assert record.count("slow") == 3
        _, tick, started = record.starts[-1]
        assert tick - START == 10.0  # the one pending tick
        assert started - START == 20.0  # run at once: 10 s late
        assert scheduler.skipped_ticks == 2  # 15 and 20 dropped
        await fake.advance(5.0)
        assert record.ticks("slow") == [0, 5, 10, 25]


async def test_a_slow_boot_batch_is_followed_by_one_catch_up(fake: FakeTime) -> None:
    rule = Rule("boot", 5.0, takes=12.0)
    async with running([rule], fake) as (_, record):
        await fake.advance(12.0)
        assert record.ticks("boot") == [0, 5]
        assert record.starts[-1][2] - START == 12.0


async def test_rules_of_one_group_wait_for_the_whole_batch(fake: FakeTime) -> None:
    release = asyncio.Event()
    one, two = Rule("one", 10.0, blockers={2: release}), Rule("two", 10.0)
    async with running([one, two], fake) as (_, record):
        await fake.advance(10.0)
        assert (record.count("one"), record.count("two")) == (2, 2)
        await fake.advance(10.0)
        assert (record.count("one"), record.count("two")) == (2, 2)  # coupled, as in NPD
        release.set()
        await fake.settle()
        assert (record.count("one"), record.count("two")) == (3, 3)


async def test_groups_are_independent(fake: FakeTime) -> None:
    release = asyncio.Event()
    blocked, free = Rule("blocked", 5.0, blockers={2: release}), Rule("free", 7.0)
    async with running([blocked, free], fake) as (_, record):
        await fake.advance(21.0)
        assert record.count("blocked") == 2
        assert record.ticks("free") == [0, 7, 14, 21]
        release.set()
        await fake.settle()


async def test_concurrency_is_bounded_and_waiting_counts_as_lateness(fake: FakeTime) -> None:
    rules = [Rule(f"r{i}", 60.0, takes=3.0) for i in range(5)]
    async with running(rules, fake, concurrency=2) as (scheduler, record):
        await fake.advance(10.0)
        assert scheduler.max_running == record.most == 2
        assert [at - START for _, _, at in record.starts] == [0, 0, 3, 3, 6]
        assert all(tick == START for _, tick, _ in record.starts)
        assert scheduler.running == 0


async def test_no_rules_idles_until_cancelled(fake: FakeTime) -> None:
    async with running([], fake) as (scheduler, record):
        await fake.advance(100.0)
        assert record.starts == []
        assert scheduler.batches == 0


async def test_a_failing_callback_is_counted_and_the_schedule_goes_on(
    fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[float] = []

    async def broken(rule: Rule, tick: float) -> None:
        calls.append(tick)
        raise RuntimeError(f"bug in {rule.name}")

    scheduler = PluginScheduler(
        [Rule("x", 1.0)],
        interval_of=lambda rule: rule.interval,
        invoke=broken,
        concurrency=1,
        clock=fake.clock,
        sleep=fake.sleep,
        label=lambda rule: rule.name,
    )
    task = asyncio.create_task(scheduler.run(), name="scheduler")
    await fake.advance(3.0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(calls) == 4
    assert scheduler.failures == 4
    assert "bug in x" in caplog.text


async def test_cancelling_stops_runs_in_flight(fake: FakeTime) -> None:
    never = asyncio.Event()
    rules = [Rule("stuck", 5.0, blockers={1: never}), Rule("also", 5.0, blockers={1: never})]
    record = Recorder(fake)
    async with running(rules, fake, recorder=record):
        assert record.running == 2
    assert record.cancelled == 2
    assert record.running == 0


def test_bad_settings_are_refused(fake: FakeTime) -> None:
    async def invoke(rule: Rule, tick: float) -> None:
        del rule, tick

    with pytest.raises(ValueError, match="concurrency"):
        PluginScheduler(
            [], interval_of=lambda r: r.interval, invoke=invoke, concurrency=0, clock=fake.clock
        )
    with pytest.raises(ValueError, match="zero: interval"):
        PluginScheduler(
            [Rule("zero", 0.0)],
            interval_of=lambda r: r.interval,
            invoke=invoke,
            concurrency=1,
            clock=fake.clock,
            label=lambda r: r.name,
        )
