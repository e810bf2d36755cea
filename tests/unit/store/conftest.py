"""Fixtures for the history store tests: a manual clock, real SQLite files in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from healthwatch.aio import ManualClock
from healthwatch.model.checks import CheckResult, Observation
from healthwatch.store import HistoryStore

StoreFactory = Callable[..., Awaitable[HistoryStore]]


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when a test says so."""
    return ManualClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the store's file goes: a directory that does not exist yet."""
    return tmp_path / "state" / "history.db"


@pytest.fixture
async def make_store(db_path: Path, clock: ManualClock) -> AsyncIterator[StoreFactory]:
    """Open stores on ``db_path`` (or another path); every one is closed afterwards."""
    opened: list[HistoryStore] = []

    async def make(path: Path | None = None, **options: object) -> HistoryStore:
        store = HistoryStore(path or db_path, clock=clock, **options)  # type: ignore[arg-type]
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


def result(
    check_id: str = "default/web",
    *,
    at: float,
    duration: float = 0.1,
    ok: bool = True,
    run_id: str = "run",
) -> CheckResult:
    """A result with one observation (and an error when it failed)."""
    return CheckResult(
        check_id=check_id,
        run_id=run_id,
        ok=ok,
        errors=() if ok else ("status was 503",),
        started_at=at,
        duration=duration,
        observations=(
            Observation(condition="status == 200", ok=ok, observed="200" if ok else "503"),
        ),
    )
