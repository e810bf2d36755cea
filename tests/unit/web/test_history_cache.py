"""The overview's history cache reads a check again only when it is stale, on a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import build_checks
from healthwatch.model.checks import CheckResult
from healthwatch.store.history import HistoryStore
from healthwatch.web.dashboard.history import HistoryCache

NOW = 1_700_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=NOW)


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[HistoryStore]:
    async with HistoryStore(tmp_path / "history.db", clock=clock, prune_interval=None) as opened:
        yield opened


def service(*names: str) -> CheckService:
    entries = [{"name": n, "kind": "exec", "argv": ["/bin/true"]} for n in names]
    return CheckService(build_checks(entries, source="test"), clock=ManualClock(wall=NOW))


async def ran(store: HistoryStore, checks: CheckService, name: str, *, ok: bool) -> None:
    """What the service does after a run: the result is stored and counted."""
    view = checks.views[f"default/{name}"]
    result = CheckResult(check_id=view.spec.id, run_id=f"r{view.runs}", ok=ok,
                         started_at=NOW - 60, duration=0.02)  # fmt: skip
    await store.add_result(result)
    view.latest, view.runs = result, view.runs + 1


async def settled(store: HistoryStore) -> None:
    """Until the store's worker has written what was queued."""
    for _ in range(200):
        if store.stats().queue_length == 0:
            return
        await asyncio.sleep(0.01)


async def test_entries_are_read_once_then_again_only_when_stale(
    store: HistoryStore, clock: ManualClock
) -> None:
    checks = service("a", "b")
    cache = HistoryCache(clock=clock, min_age=5.0, max_age=600.0, inline=10)
    await ran(store, checks, "a", ok=False)
    await settled(store)
    await cache.for_page(store, checks)
    assert cache.reads == 2
    entry = cache.get("default/a")
    assert entry is not None and entry.uptime == 0.0 and "class=down" in entry.uptime_bar
    assert entry.sparkline.count("<path") == 1
    empty = cache.get("default/b")
    assert empty is not None and empty.uptime is None
    await cache.for_page(store, checks)
    assert cache.reads == 2  # nothing changed
    await ran(store, checks, "a", ok=True)
    await settled(store)
    await cache.for_page(store, checks)
    assert cache.reads == 2  # changed, but read less than min_age ago
    clock.advance(5.0)
    await cache.for_page(store, checks)
    assert cache.reads == 3  # only the check that ran
    assert cache.get("default/a").uptime == 0.5  # type: ignore[union-attr]
    clock.advance(600.0)
    await cache.for_page(store, checks)
    assert cache.reads == 5  # everything, once max_age passed


async def test_a_page_reads_at_most_inline_entries_and_forgets_removed_checks(
    store: HistoryStore, clock: ManualClock
) -> None:
    cache = HistoryCache(clock=clock, inline=2)
    checks = service("a", "b", "c")
    await cache.for_page(store, checks)
    assert cache.reads == 2
    await cache.for_page(store, checks)
    assert cache.reads == 3 and cache.get("default/c") is not None
    await cache.for_page(store, service("c"))
    assert cache.get("default/a") is None and cache.get("default/c") is not None


async def test_the_background_task_works_only_while_someone_watches(
    store: HistoryStore, clock: ManualClock
) -> None:
    checks = service("a", "b", "c")
    cache = HistoryCache(clock=clock, inline=0, per_tick=10, tick=0.01)
    async with cache.running(lambda: store, lambda: checks):
        await asyncio.sleep(0.1)
        assert cache.reads == 0  # nobody has looked at the overview
        await cache.for_page(store, checks)
        for _ in range(100):
            if cache.reads == 3:
                break
            await asyncio.sleep(0.01)
        assert cache.reads == 3
    assert cache.errors == 0


async def test_a_closed_store_leaves_the_drawings_as_they_were(
    tmp_path: Path, clock: ManualClock
) -> None:
    checks = service("a")
    cache = HistoryCache(clock=clock)
    async with HistoryStore(tmp_path / "h.db", clock=clock, prune_interval=None) as store:
        await cache.for_page(store, checks)
    clock.advance(1000.0)
    await cache.for_page(store, checks)  # closed: the read fails, nothing raises
    assert cache.errors == 1 and cache.get("default/a") is not None
