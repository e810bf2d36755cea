"""Opening the history file: migrations, newer versions, damaged, locked and unwritable files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from healthwatch.aio import ManualClock
from healthwatch.model.errors import HealthwatchError
from healthwatch.store import (
    SCHEMA_VERSION,
    HistoryStore,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)
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


def test_version_one_script_is_unchanged() -> None:
    assert MIGRATIONS[0] == V1
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 2


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
