"""The scheduler's scale-related contract: the lateness histogram, limits, what it keeps.

Uses the simulated time of :mod:`tests.unit.checks.test_scheduler`: nothing sleeps.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from healthwatch.aio import ManualClock
from healthwatch.checks.scheduler import LATENESS_BUCKETS, ScheduledCheck
from tests.unit.checks.test_scheduler import (
    START,
    FakeTime,
    FixedRandom,
    Recorder,
    check,
    make,
    running,
)


@pytest.fixture
def clock() -> ManualClock:
    """The scheduler's clock, at ``START``."""
    return ManualClock(monotonic=START)


@pytest.fixture
def fake(clock: ManualClock) -> FakeTime:
    """Simulated time on ``clock``."""
    return FakeTime(clock)


async def test_lateness_histogram_counts_every_run_since_the_start(
    clock: ManualClock, fake: FakeTime
) -> None:
    recorder = Recorder(clock, fake, takes=2.0)
    scheduler = make(clock, fake, recorder, concurrency={"exec": 1}, rng=FixedRandom(0.0))
    for i in range(3):  # one permit: they start 0 s, 2 s and 4 s after their slot
        scheduler.add(check(i, kind="exec", interval=100))
    async with running(scheduler):
        await fake.run_to(START + 250)  # three rounds: nine runs
    sample = scheduler.lateness({"node": "n1"})
    assert sample.labels == {"node": "n1"}
    assert sample.value == 9 == scheduler.stats().started
    assert sample.sum == 3 * (0.0 + 2.0 + 4.0)
    cumulative = dict(sample.buckets)
    assert list(cumulative) == list(LATENESS_BUCKETS)
    assert cumulative[0.001] == 3  # the runs that got the permit at once
    assert cumulative[1.0] == 3 and cumulative[2.5] == 6 and cumulative[5.0] == 9
    assert cumulative[60.0] == 9


async def test_a_fresh_scheduler_has_an_empty_histogram(clock: ManualClock, fake: FakeTime) -> None:
    scheduler = make(clock, fake, Recorder(clock, fake))
    sample = scheduler.lateness({})
    assert (sample.value, sample.sum) == (0.0, 0.0)
    assert all(count == 0 for _, count in sample.buckets)


async def test_limit_names_the_permits_of_each_kind(clock: ManualClock, fake: FakeTime) -> None:
    scheduler = make(
        clock, fake, Recorder(clock, fake), concurrency={"http": 7}, default_concurrency=3
    )
    assert (scheduler.limit("http"), scheduler.limit("dns")) == (7, 3)


async def test_finished_runs_are_not_kept(clock: ManualClock, fake: FakeTime) -> None:
    tasks: list[weakref.ref[asyncio.Task[None]]] = []

    async def run(_check: ScheduledCheck) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(weakref.ref(task))

    scheduler = make(clock, fake, run)
    for i in range(50):
        scheduler.add(check(i))
    async with running(scheduler):
        await fake.run_to(START + 25)  # two or three runs of each check
        for _ in range(4):
            await asyncio.sleep(0)  # done callbacks run
        gc.collect()
        assert len(tasks) >= 100
        assert [ref for ref in tasks if ref() is not None] == []


async def test_a_check_removed_and_added_again_never_overlaps_its_run_in_flight(
    clock: ManualClock, fake: FakeTime
) -> None:
    recorder = Recorder(clock, fake, takes=15.0)  # each run outlasts the interval
    scheduler = make(clock, fake, recorder, rng=FixedRandom(0.0))
    scheduler.add(check(1))
    async with running(scheduler):
        await fake.run_to(START + 1)  # the first run is in flight
        assert scheduler.remove("c1")
        scheduler.add(check(1))  # due at once, while the old run still goes on
        await fake.run_to(START + 14)
        assert recorder.starts["c1"] == [START]
        assert scheduler.stats().skipped_overlap >= 1
        await fake.run_to(START + 40)
    assert recorder.max_in_flight["http"] == 1
    assert len(recorder.starts["c1"]) >= 2
