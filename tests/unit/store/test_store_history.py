"""The history store through its public API, on real SQLite files."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
import stat
from pathlib import Path

import pytest

from healthwatch.aio import ManualClock
from healthwatch.store import HistoryStore, StoreError, StoreStats
from healthwatch.store.rollups import bucket_start
from tests.unit.store.conftest import StoreFactory, result
from tests.unit.store.test_store_sketch import nearest_rank, within_bound

DAY = 86400.0


def mode_of(path: Path) -> int:
    """Permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


async def test_creates_private_file_and_directory(make_store: StoreFactory, db_path: Path) -> None:
    await make_store()
    assert mode_of(db_path) == 0o600
    assert mode_of(db_path.parent) == 0o700


async def test_results_round_trip_with_observations(
    make_store: StoreFactory, clock: ManualClock
) -> None:
    store = await make_store()
    now = clock.time()
    written = [
        result(at=now + i, duration=0.01 * i, ok=i % 2 == 0, run_id=f"r{i}") for i in range(5)
    ]
    for item in written:
        assert await store.add_result(item)
    await store.add_result(result("other/check", at=now))

    got = await store.results("default/web")
    assert got == list(reversed(written))
    assert await store.results("default/web", since=now + 1, until=now + 3) == [
        written[2],
        written[1],
    ]
    assert await store.results("default/web", limit=2) == [written[4], written[3]]
    assert await store.results("missing/check") == []
    stats = store.stats()
    assert (stats.written, stats.dropped, stats.errors, stats.queue_length) == (6, 0, 0, 0)


async def test_rollups_match_a_naive_computation(
    make_store: StoreFactory, clock: ManualClock
) -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible data, not cryptography
    store = await make_store()
    start = clock.time()
    written = [
        result(
            at=start + rng.uniform(0, 2 * DAY),
            duration=rng.lognormvariate(-2.0, 1.0),
            ok=rng.random() > 0.2,
        )
        for _ in range(600)
    ]
    for item in written:
        await store.add_result(item)

    for resolution in ("hour", "day"):
        rollups = await store.rollups("default/web", resolution)
        groups: dict[int, list[float]] = {}
        failures: dict[int, int] = {}
        for item in written:
            key = bucket_start(item.started_at, resolution)
            groups.setdefault(key, []).append(item.duration)
            failures[key] = failures.get(key, 0) + (0 if item.ok else 1)
        assert [rollup.start for rollup in rollups] == sorted(groups)
        for rollup in rollups:
            values = groups[int(rollup.start)]
            assert rollup.check_id == "default/web"
            assert rollup.count == len(values)
            assert rollup.failures == failures[int(rollup.start)]
            assert abs(rollup.latency_max - max(values)) <= 5e-7  # kept to the microsecond
            for q, estimate in (
                (0.5, rollup.latency_p50),
                (0.9, rollup.latency_p90),
                (0.95, rollup.latency_p95),
                (0.99, rollup.latency_p99),
            ):
                assert within_bound(estimate, nearest_rank(values, q))

    first_hour = bucket_start(start, "hour")
    window = await store.rollups("default/web", "hour", since=first_hour, until=first_hour + 3600)
    assert [rollup.start for rollup in window] == [first_hour]


async def test_uptime_is_one_zero_filled_entry_per_day(
    make_store: StoreFactory, clock: ManualClock
) -> None:
    store = await make_store()
    now = clock.time()
    await store.add_result(result(at=now - 2 * DAY, ok=False))
    await store.add_result(result(at=now - 2 * DAY + 60))
    await store.add_result(result(at=now))
    await store.add_result(result(at=now - 200 * DAY))  # outside the bar

    days = await store.uptime("default/web")
    assert len(days) == 90
    assert days[-1].start == bucket_start(now, "day")
    assert all(later.start - earlier.start == DAY for earlier, later in itertools.pairwise(days))
    assert [(day.count, day.failures) for day in days[-3:]] == [(2, 1), (0, 0), (1, 0)]
    assert sum(day.count for day in days) == 3
    assert len(await store.uptime("default/web", days=7)) == 7


async def test_prune_applies_both_retentions(make_store: StoreFactory, clock: ManualClock) -> None:
    store = await make_store(raw_retention=30 * DAY, rollup_retention=366 * DAY)
    old = clock.time()
    await store.add_result(result(at=old))
    clock.advance(31 * DAY)
    await store.add_result(result(at=clock.time()))

    assert await store.prune() == 1  # the old raw result; its roll-ups stay
    assert len(await store.results("default/web")) == 1
    assert len(await store.rollups("default/web", "hour")) == 2
    assert len(await store.rollups("default/web", "day")) == 2

    clock.advance(340 * DAY)
    assert await store.prune() == 1 + 2  # the newer raw result, the old hour and day
    assert await store.results("default/web") == []
    assert [rollup.start for rollup in await store.rollups("default/web", "day")] == [
        bucket_start(old + 31 * DAY, "day")
    ]


async def test_state_survives_close_and_reopen(
    db_path: Path, clock: ManualClock, make_store: StoreFactory
) -> None:
    async with HistoryStore(db_path, clock=clock) as store:
        assert await store.load_states() == {}
        await store.save_state("default/web", {"failing": 2, "alert": {"open": True}})
        await store.save_state("default/db", {"failing": 0})
        await store.save_state("default/db", {"failing": 1})
        await store.add_result(result(at=clock.time()))

    reopened = await make_store()
    assert await reopened.load_states() == {
        "default/web": {"failing": 2, "alert": {"open": True}},
        "default/db": {"failing": 1},
    }
    assert len(await reopened.results("default/web")) == 1


async def test_full_queue_drops_without_wait_and_waits_otherwise(
    make_store: StoreFactory, clock: ManualClock
) -> None:
    store = await make_store(max_queue=1)
    now = clock.time()
    # No await suspends between these calls, so the worker cannot free the only slot.
    assert await store.add_result(result(at=now, run_id="a"))
    assert not await store.add_result(result(at=now, run_id="b"), wait=False)
    assert store.stats().dropped == 1
    assert await asyncio.wait_for(store.add_result(result(at=now, run_id="c")), timeout=10)
    runs = [item.run_id for item in await store.results("default/web")]
    assert sorted(runs) == ["a", "c"]
    stats = store.stats()
    assert (stats.written, stats.dropped, stats.queue_length) == (2, 1, 0)


async def test_closed_or_unopened_store_refuses_work(db_path: Path, clock: ManualClock) -> None:
    store = HistoryStore(db_path, clock=clock)
    with pytest.raises(StoreError, match="not open"):
        await store.results("default/web")
    await store.open()
    with pytest.raises(RuntimeError, match="twice"):
        await store.open()
    await store.add_result(result(at=clock.time()))
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreError, match=str(db_path)):
        await store.add_result(result(at=clock.time()))
    async with HistoryStore(db_path, clock=clock) as again:
        assert len(await again.results("default/web")) == 1  # the queued result was written


async def test_invalid_arguments(db_path: Path, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="max_queue"):
        HistoryStore(db_path, clock=clock, max_queue=0)
    async with HistoryStore(db_path, clock=clock) as store:
        with pytest.raises(ValueError, match="resolution"):
            await store.rollups("default/web", "week")  # type: ignore[arg-type]


def test_nothing_runs_at_import_or_construction(db_path: Path, clock: ManualClock) -> None:
    HistoryStore(db_path, clock=clock)
    assert not db_path.parent.exists()


def damage_sketch(path: Path, table: str, start: int, blob: object) -> None:
    """Overwrite one roll-up's sketch, as a bad disk or a foreign writer might."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            changed = connection.execute(
                f"UPDATE {table} SET sketch = ? WHERE start = ?",  # noqa: S608 - test's own name
                (blob, start),
            ).rowcount
        assert changed == 1
    finally:
        connection.close()


@pytest.mark.parametrize("blob", [b"\xff\x00", b"", b"\x01\x00\x05", "{not json", 42])
async def test_a_damaged_sketch_is_skipped_counted_and_replaced(
    make_store: StoreFactory, clock: ManualClock, db_path: Path, blob: object
) -> None:
    store = await make_store()
    now = clock.time()
    hour = bucket_start(now, "hour")
    for i, duration in enumerate((0.1, 0.2, 0.3)):
        await store.add_result(result(at=hour + 3600 * i, duration=duration, ok=i != 1))
    await store.results("default/web")  # everything written
    damage_sketch(db_path, "rollups_hour", hour + 3600, blob)

    hours = await store.rollups("default/web", "hour")
    assert [rollup.start for rollup in hours] == [hour, hour + 7200]  # the damaged one left out
    assert store.stats().corrupt_sketches == 1
    assert len(await store.uptime("default/web", days=1)) == 1  # counts need no sketch

    # New runs in the damaged hour replace its sketch; count and failures keep adding up.
    await store.add_result(result(at=hour + 3600 + 60, duration=0.5))
    [repaired] = await store.rollups("default/web", "hour", since=hour + 3600, until=hour + 7200)
    assert (repaired.count, repaired.failures) == (2, 1)
    assert repaired.latency_max == 0.5
    assert store.stats() == StoreStats(
        written=4, dropped=0, errors=0, queue_length=0, corrupt_sketches=2
    )
