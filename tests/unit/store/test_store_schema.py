"""Opening the history file: migrations, newer versions, damaged, locked and unwritable files."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest

from healthwatch.aio import ManualClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.store import (
    SCHEMA_VERSION,
    HistoryStore,
    LatencySketch,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)
from healthwatch.store.rollups import Resolution, bucket_start
from healthwatch.store.schema import MIGRATIONS, connect, translate
from tests.unit.store.conftest import StoreFactory, result

# Version 1 as it shipped; migrations are append-only, so this must never change.
V1 = """
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    check_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration REAL NOT NULL,
    ok INTEGER NOT NULL,
    errors TEXT NOT NULL,        -- JSON list of strings
    observations TEXT NOT NULL   -- JSON list of {condition, ok, observed}
);
CREATE INDEX results_by_check_time ON results (check_id, started_at);
CREATE TABLE check_state (
    check_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,         -- JSON object
    updated_at REAL NOT NULL
);
"""

# Version 2 as it shipped (roll-ups with JSON sketches); never to change either.
V2 = """
CREATE TABLE rollups (
    check_id TEXT NOT NULL,
    resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
    start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    sketch TEXT NOT NULL,        -- LatencySketch.dumps(); holds the exact maximum
    PRIMARY KEY (check_id, resolution, start)
) WITHOUT ROWID;
CREATE INDEX rollups_by_time ON rollups (resolution, start);
CREATE INDEX results_by_time ON results (started_at);
INSERT INTO rollups
    SELECT check_id, 'hour', CAST(started_at / 3600 AS INTEGER) * 3600,
           count(*), sum(ok = 0), hw_sketch(duration)
    FROM results GROUP BY 1, 3;
INSERT INTO rollups
    SELECT check_id, 'day', CAST(started_at / 86400 AS INTEGER) * 86400,
           count(*), sum(ok = 0), hw_sketch(duration)
    FROM results GROUP BY 1, 3;
"""


def write_v1(path: Path, rows: list[tuple[str, float, float, int]]) -> None:
    """A version-1 database holding ``rows`` of (check_id, started_at, duration, ok)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(V1)
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (1)")
        connection.executemany(
            "INSERT INTO results (check_id, run_id, started_at, duration, ok, errors, "
            "observations) VALUES (?, 'v1', ?, ?, ?, '[]', '[]')",
            rows,
        )
        connection.execute("INSERT INTO check_state VALUES ('default/web', '{\"failing\":3}', 0)")
        connection.commit()
    finally:
        connection.close()


V2Rollup = tuple[str, str, int, int, int, str]
"""(check_id, resolution, start, count, failures, sketch JSON) as version 2 kept them."""


def write_v2(path: Path, rollups: list[V2Rollup]) -> None:
    """A version-2 database holding ``rollups``, built with the shipped schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(V1)
        connection.executescript(V2[: V2.index("INSERT INTO")])  # the tables, not the fill
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (1), (2)")
        connection.executemany("INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?)", rollups)
        connection.commit()
    finally:
        connection.close()


def write_random(path: Path) -> None:
    """Fill ``path`` with random bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(16384))


def truncate_half(path: Path) -> None:
    """Cut ``path`` to half its size, as a crash on a full disk might."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def schema_versions(path: Path) -> list[int]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT version FROM schema_version")]
    finally:
        connection.close()


def test_shipped_scripts_are_unchanged() -> None:
    assert MIGRATIONS[0] == V1
    assert MIGRATIONS[1] == V2
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 3


async def test_migrates_a_version_one_database(
    make_store: StoreFactory, db_path: Path, clock: ManualClock
) -> None:
    now = clock.time()
    write_v1(db_path, [("default/web", now, 0.2, 1), ("default/web", now + 1, 0.4, 0)])

    store = await make_store()
    assert schema_versions(db_path) == list(range(1, SCHEMA_VERSION + 1))
    assert await store.load_states() == {"default/web": {"failing": 3}}
    assert [item.ok for item in await store.results("default/web")] == [False, True]
    [hour] = await store.rollups("default/web", "hour")
    assert (hour.count, hour.failures, hour.latency_max) == (2, 1, 0.4)
    # Roll-ups filled by the migration keep growing incrementally.
    await store.add_result(result(at=now + 2, duration=0.3))
    [day] = await store.rollups("default/web", "day")
    assert (day.count, day.failures, day.latency_max) == (3, 1, 0.4)


async def test_migrates_a_version_two_database_converting_its_sketches(
    make_store: StoreFactory, db_path: Path, clock: ManualClock
) -> None:
    rng = random.Random(3)  # noqa: S311 - reproducible data, not cryptography
    today = bucket_start(clock.time(), "day")
    sketches: dict[tuple[str, Resolution, int], LatencySketch] = {}
    rows: list[V2Rollup] = []
    plan: tuple[tuple[Resolution, int, int], ...] = (("hour", 3600, 30), ("day", 86400, 3))
    for check in ("default/web", "default/db", "other/dns"):
        for resolution, width, buckets in plan:
            for i in range(buckets):
                start = today - i * width
                sketch = LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(40))
                sketches[check, resolution, start] = sketch
                rows.append((check, resolution, start, 40, i % 3, sketch.dumps()))
    rows.append(("default/web", "day", today - 5 * 86400, 7, 1, '{"m": 1, "b": '))  # damaged
    write_v2(db_path, rows)

    store = await make_store()
    assert schema_versions(db_path) == list(range(1, SCHEMA_VERSION + 1))
    for (check, resolution, start), sketch in sketches.items():
        [rollup] = await store.rollups(check, resolution, since=start, until=start + 1)
        failures = next(row[4] for row in rows if row[:3] == (check, resolution, start))
        assert (rollup.count, rollup.failures) == (40, failures)
        kept = LatencySketch.from_bytes(sketch.to_bytes())  # the maximum to the microsecond
        assert rollup.latency_p50 == kept.quantile(0.5)
        assert rollup.latency_p99 == kept.quantile(0.99)
        assert abs(rollup.latency_max - sketch.maximum) <= 5e-7
    assert store.stats().corrupt_sketches == 0
    # The damaged row was kept: its counts still show in the uptime bar, its sketch is skipped.
    days = await store.uptime("default/web", days=6)
    assert (days[0].count, days[0].failures) == (7, 1)
    assert len(await store.rollups("default/web", "day")) == 3
    assert store.stats().corrupt_sketches == 1
    # Converted roll-ups keep growing incrementally.
    await store.add_result(result(at=today + 1, duration=5.0))
    [day] = await store.rollups("default/web", "day", since=today)
    assert (day.count, day.latency_max) == (41, 5.0)

    connection = sqlite3.connect(db_path)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        names = [row[0] for row in connection.execute("SELECT name FROM checks ORDER BY id")]
        blob_types = {
            row[0] for row in connection.execute("SELECT typeof(sketch) FROM rollups_hour")
        }
    finally:
        connection.close()
    assert "rollups" not in tables
    assert {"rollups_hour", "rollups_day", "checks"} <= tables
    assert names == ["default/db", "default/web", "other/dns"]
    assert blob_types == {"blob"}


async def test_reopening_a_current_database_applies_nothing(
    db_path: Path, clock: ManualClock
) -> None:
    for _ in range(2):
        async with HistoryStore(db_path, clock=clock):
            pass
    assert schema_versions(db_path) == list(range(1, SCHEMA_VERSION + 1))


async def test_refuses_a_database_from_a_newer_version(db_path: Path, clock: ManualClock) -> None:
    async with HistoryStore(db_path, clock=clock):
        pass
    connection = sqlite3.connect(db_path)
    with connection:
        connection.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    connection.close()

    with pytest.raises(StoreVersionError, match="newer healthwatch") as caught:
        await HistoryStore(db_path, clock=clock).open()
    assert str(db_path) in str(caught.value)
    assert isinstance(caught.value, HealthwatchError)


async def test_random_bytes_are_refused_naming_the_path(db_path: Path, clock: ManualClock) -> None:
    write_random(db_path)
    with pytest.raises(StoreCorruptError, match="move it aside") as caught:
        await HistoryStore(db_path, clock=clock).open()
    assert str(db_path) in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.Error)


async def test_truncated_database_is_refused(db_path: Path, clock: ManualClock) -> None:
    async with HistoryStore(db_path, clock=clock) as store:
        for i in range(200):
            await store.add_result(result(at=clock.time() + i, run_id="x" * 200))
    truncate_half(db_path)
    with pytest.raises(StoreCorruptError, match=str(db_path)):
        await HistoryStore(db_path, clock=clock).open()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
async def test_read_only_directory(tmp_path: Path, clock: ManualClock) -> None:
    directory = tmp_path / "ro"
    directory.mkdir(mode=0o500)
    try:
        with pytest.raises(StoreError, match="writable") as caught:
            await HistoryStore(directory / "history.db", clock=clock).open()
        assert str(directory / "history.db") in str(caught.value)
    finally:
        directory.chmod(0o700)


async def test_unusable_directory(tmp_path: Path, clock: ManualClock) -> None:
    # Even root cannot create a directory under a regular file.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    path = blocker / "history.db"
    with pytest.raises(StoreError, match="writable") as caught:
        await HistoryStore(path, clock=clock).open()
    assert str(path) in str(caught.value)


async def test_locked_database_times_out(db_path: Path, clock: ManualClock) -> None:
    db_path.parent.mkdir()
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("CREATE TABLE other (x)")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreLockedError, match="another process") as caught:
            await HistoryStore(db_path, clock=clock, busy_timeout=0.1).open()
        assert str(db_path) in str(caught.value)
    finally:
        holder.close()
    async with HistoryStore(db_path, clock=clock, busy_timeout=0.1):
        pass  # usable once the other process lets go


def test_disk_full_is_translated(db_path: Path) -> None:
    connection = connect(db_path, busy_timeout=0.1)
    try:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(sqlite3.Error) as raised:
            connection.executemany(
                "INSERT INTO check_state VALUES (?, ?, 0)",
                [(str(i), "x" * 1000) for i in range(100)],
            )
    finally:
        connection.close()
    error = translate(raised.value, db_path, "writing")
    assert type(error) is StoreError
    assert "free space" in str(error)
    assert str(db_path) in str(error)


async def test_failed_writes_are_counted(
    make_store: StoreFactory, db_path: Path, clock: ManualClock
) -> None:
    store = await make_store(busy_timeout=0.05)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the WAL write lock
        await store.add_result(result(at=clock.time()))
        with pytest.raises(StoreLockedError):
            await store.save_state("default/web", {"failing": 1})
    finally:
        holder.close()
    stats = store.stats()
    assert (stats.written, stats.errors) == (0, 1)
    assert await store.results("default/web") == []
