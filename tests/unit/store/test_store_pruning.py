"""Retention: pruning on the store's own timer, in small steps, surviving failures."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from healthwatch.aio import ManualClock
from healthwatch.store import HistoryStore, Retention
from healthwatch.store.retention import prune_rollups
from healthwatch.store.rollups import bucket_start
from healthwatch.store.schema import connect
from tests.unit.store.conftest import StoreFactory, result

DAY = 86400.0
HOUR = 3600.0


async def wait_until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    """Until ``predicate()`` holds (the timers here fire every few milliseconds)."""
    deadline = asyncio.get_running_loop().time() + limit
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def wait_for_prune_runs(store: HistoryStore, runs: int) -> None:
    """Until the timer has completed ``runs`` runs."""
    await wait_until(lambda: store.stats().prune_runs >= runs)


def prune_tasks() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("healthwatch-store-prune:") and not task.done()
    ]


def table_rows(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    finally:
        connection.close()


async def test_each_kind_of_history_has_its_own_retention(
    make_store: StoreFactory, clock: ManualClock
) -> None:
    retention = Retention(raw=2 * DAY, hourly=5 * DAY, daily=10 * DAY)
    store = await make_store(retention=retention, prune_interval=None)
    start = bucket_start(clock.time(), "day")
    clock.set_wall(start)
    for day in range(12):
        await store.add_result(result(at=start + day * DAY + 1, ok=day % 3 != 0))
    clock.advance(12 * DAY)  # now: the start of day 12

    assert await store.prune() == 10 + 7 + 2
    assert [r.started_at for r in await store.results("default/web")] == [
        start + 11 * DAY + 1,
        start + 10 * DAY + 1,
    ]
    hours = await store.rollups("default/web", "hour")
    assert [rollup.start for rollup in hours] == [start + d * DAY for d in range(7, 12)]
    days = await store.rollups("default/web", "day")
    assert [rollup.start for rollup in days] == [start + d * DAY for d in range(2, 12)]
    stats = store.stats()
    assert (stats.pruned_results, stats.pruned_hourly, stats.pruned_daily) == (10, 7, 2)
    assert (stats.prune_runs, stats.prune_errors) == (1, 0)
    assert await store.prune() == 0  # nothing more to do


async def test_the_timer_prunes_while_open_and_stops_on_close(
    make_store: StoreFactory, clock: ManualClock
) -> None:
    store = await make_store(raw_retention=DAY, rollup_retention=3 * DAY, prune_interval=0.01)
    assert len(prune_tasks()) == 1
    old = clock.time()
    await store.add_result(result(at=old))
    clock.advance(2 * DAY)
    runs = store.stats().prune_runs
    await wait_for_prune_runs(store, runs + 1)
    assert await store.results("default/web") == []  # raw result older than a day: gone
    assert len(await store.rollups("default/web", "day")) == 1  # roll-ups kept 3 days

    clock.advance(2 * DAY)
    await wait_for_prune_runs(store, store.stats().prune_runs + 1)
    assert await store.rollups("default/web", "day") == []
    assert await store.rollups("default/web", "hour") == []
    stats = store.stats()
    assert (stats.pruned_results, stats.pruned_hourly, stats.pruned_daily) == (1, 1, 1)

    await store.close()
    assert prune_tasks() == []
    ran = store.stats().prune_runs
    await asyncio.sleep(0.05)
    assert store.stats().prune_runs == ran


async def test_pruning_goes_in_small_steps_and_writes_go_in_between(
    make_store: StoreFactory, clock: ManualClock, db_path: Path
) -> None:
    store = await make_store(raw_retention=HOUR, prune_interval=None, prune_batch=10)
    now = clock.time()
    for i in range(100):
        await store.add_result(result(at=now - 2 * HOUR + i))
    pruning = asyncio.create_task(store.prune())
    await asyncio.sleep(0)  # the first step is queued
    await store.add_result(result("default/new", at=now))
    remaining = await store.results("default/web")
    # The write and the read ran after exactly one step of ten rows.
    assert len(remaining) == 90
    assert not pruning.done()
    assert len(await store.results("default/new")) == 1
    assert await pruning == 100
    assert store.stats().pruned_results == 100
    assert table_rows(db_path, "results") == 1


async def test_rollups_of_many_checks_are_pruned_in_steps(
    make_store: StoreFactory, clock: ManualClock, db_path: Path
) -> None:
    store = await make_store(rollup_retention=DAY, prune_interval=None, prune_batch=4)
    start = clock.time()
    for check in range(5):
        for hour in range(6):
            await store.add_result(result(f"default/c{check}", at=start + hour * HOUR))
    await store.results("default/c0")
    assert table_rows(db_path, "checks") == 5
    clock.advance(3 * DAY)
    # 5 checks x 6 hours and 5 x 1 or 2 days expired (raw results are kept 30 days);
    # each step deletes at most 4.
    days = table_rows(db_path, "rollups_day")
    assert await store.prune() == 5 * 6 + days
    assert len(await store.results("default/c0")) == 6
    for check in range(5):
        assert await store.rollups(f"default/c{check}", "hour") == []
    assert table_rows(db_path, "rollups_hour") == 0
    assert table_rows(db_path, "checks") == 0  # names nothing refers to are forgotten
    # A forgotten check that runs again gets a fresh id and its roll-ups back.
    await store.add_result(result("default/c3", at=clock.time()))
    [revived] = await store.rollups("default/c3", "hour")
    assert revived.count == 1


async def test_one_rollup_step_deletes_at_most_its_limit(
    make_store: StoreFactory, clock: ManualClock, db_path: Path
) -> None:
    store = await make_store(prune_interval=None)
    for check in range(5):
        for hour in range(6):
            await store.add_result(result(f"default/c{check}", at=clock.time() + hour * HOUR))
    await store.close()
    connection = connect(db_path, busy_timeout=1.0)
    try:
        steps: list[int] = []
        resume: int | None = 0
        while resume is not None:
            deleted, resume = prune_rollups(
                connection, "rollups_hour", before=clock.time() + DAY, limit=4, after_check=resume
            )
            steps.append(deleted)
    finally:
        connection.close()
    assert steps == [4] * 7 + [2]  # 5 checks x 6 hours, resumed where each step stopped


async def test_a_failed_run_is_counted_and_the_timer_carries_on(
    make_store: StoreFactory, clock: ManualClock, db_path: Path
) -> None:
    store = await make_store(raw_retention=DAY, prune_interval=0.01, busy_timeout=0.01)
    await store.add_result(result(at=clock.time()))
    await store.results("default/web")
    clock.advance(2 * DAY)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock: pruning fails
        await wait_until(lambda: store.stats().prune_errors >= 2)
    finally:
        holder.close()
    await wait_for_prune_runs(store, 1)
    assert await store.results("default/web") == []
    assert store.stats().pruned_results == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prune_interval": 0}, "prune_interval"),
        ({"prune_interval": -1.0}, "prune_interval"),
        ({"prune_interval": float("nan")}, "prune_interval"),
        ({"retention": Retention(), "raw_retention": True}, "raw retention"),
        ({"prune_batch": 0}, "prune_batch"),
        ({"raw_retention": -1.0}, "raw retention"),
        ({"rollup_retention": float("inf")}, "hourly retention"),
        ({"retention": Retention(raw=DAY, hourly=DAY, daily=DAY), "raw_retention": 0}, "raw"),
    ],
)
def test_invalid_retention_settings(
    db_path: Path, clock: ManualClock, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        HistoryStore(db_path, clock=clock, **options)  # type: ignore[arg-type]


def test_retention_defaults_and_the_older_arguments(db_path: Path, clock: ManualClock) -> None:
    assert HistoryStore(db_path, clock=clock).retention == Retention(
        raw=30 * DAY, hourly=366 * DAY, daily=400 * DAY
    )
    legacy = HistoryStore(db_path, clock=clock, raw_retention=DAY, rollup_retention=7 * DAY)
    assert legacy.retention == Retention(raw=DAY, hourly=7 * DAY, daily=7 * DAY)
    mixed = HistoryStore(
        db_path, clock=clock, retention=Retention(hourly=90 * DAY), raw_retention=DAY
    )
    assert mixed.retention == Retention(raw=DAY, hourly=90 * DAY, daily=400 * DAY)
