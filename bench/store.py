"""Benchmark of the history store: file size, uptime-bar latency and pruning, at full retention.

Run: ``.venv/bin/python bench/store.py [--checks 1000] [--hourly-days 366] [--daily-days 400]``.
Prints the figures and writes them to ``bench/results/store.json``.

Roll-ups for ``--checks`` checks are written straight into a fresh store file in
the store's own layout (schema version 3: integer check ids, one WITHOUT ROWID
table per resolution, binary sketches), the way the agent fills them: hour after
hour, one row per check, so rows land all over the (check, start) key space as
they do in production. Each hour's sketch holds 60 runs (one check every minute)
and each day's 1,440, latencies log-normal around 50 ms. Replaying 8.8 million
runs through ``add_result`` would measure the insert path, not what we want here.

Then the store is opened as the agent would and a check's 90-day uptime bar (and
its last day of hourly roll-ups, as a dashboard would show) is read repeatedly;
the median is reported (target: the uptime bar in <= 10 ms). Then a day passes
and the store prunes a day of expired roll-ups while a reader queries it: how long
pruning takes and the worst wait a query saw. Finally raw results are written
through ``add_result`` to measure what each costs on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchkit import load_note, write_results
from healthwatch.aio import ManualClock
from healthwatch.model.checks import CheckResult, Observation
from healthwatch.store import HistoryStore, LatencySketch, Retention
from healthwatch.store.schema import connect

RESULTS = Path(__file__).parent / "results" / "store.json"
TARGET_UPTIME_MS = 10.0
TARGET_MB = 400.0
HOUR = 3600
DAY = 86400
NOW = 1_700_000_000.0


def sketches(rng: random.Random, runs: int) -> list[bytes]:
    """64 binary sketches of ``runs`` log-normal latencies each."""
    return [
        LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(runs)).to_bytes()
        for _ in range(64)
    ]


def fill(path: Path, *, checks: int, hourly_days: int, daily_days: int) -> float:
    """Write ``hourly_days`` of hourly and ``daily_days`` of daily roll-ups; seconds taken."""
    rng = random.Random(1)  # noqa: S311 - reproducible data
    hourly, daily = sketches(rng, 60), sketches(rng, 1440)
    today = int(NOW // DAY) * DAY
    began = time.perf_counter()
    connection = connect(path, busy_timeout=5.0)
    try:
        connection.execute("PRAGMA cache_size = -65536")  # a fast fill; the agent uses less
        connection.executemany(
            "INSERT INTO checks (id, name) VALUES (?, ?)",
            [(check + 1, f"bench/check-{check:04d}") for check in range(checks)],
        )
        ids = range(1, checks + 1)
        for day in range(max(hourly_days, daily_days) - 1, -1, -1):
            day_start = today - day * DAY
            connection.execute("BEGIN")
            if day < hourly_days:
                for hour in range(24):
                    start = day_start + hour * HOUR
                    connection.executemany(
                        "INSERT INTO rollups_hour VALUES (?, ?, 60, 0, ?)",
                        [(check, start, rng.choice(hourly)) for check in ids],
                    )
            if day < daily_days:
                connection.executemany(
                    "INSERT INTO rollups_day VALUES (?, ?, 1440, 0, ?)",
                    [(check, day_start, rng.choice(daily)) for check in ids],
                )
            connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return time.perf_counter() - began


async def render(path: Path, *, checks: int, daily_days: int, repeats: int) -> dict[str, float]:
    """Median milliseconds for a 90-day uptime bar and a day of hourly roll-ups."""
    clock = ManualClock(wall=NOW)
    uptime_ms: list[float] = []
    hourly_ms: list[float] = []
    async with HistoryStore(path, clock=clock, prune_interval=None) as store:
        for i in range(repeats):
            check_id = f"bench/check-{(i * 7919) % checks:04d}"
            began = time.perf_counter()
            bar = await store.uptime(check_id, days=90)
            uptime_ms.append((time.perf_counter() - began) * 1000)
            assert len(bar) == 90
            assert sum(day.count == 1440 for day in bar) == min(90, daily_days)
            began = time.perf_counter()
            hours = await store.rollups(check_id, "hour", since=NOW - DAY, until=NOW)
            hourly_ms.append((time.perf_counter() - began) * 1000)
            assert len(hours) == 24
    return {
        "uptime_90d_ms_median": statistics.median(uptime_ms),
        "uptime_90d_ms_max": max(uptime_ms),
        "hourly_1d_ms_median": statistics.median(hourly_ms),
    }


async def prune_a_day(path: Path, *, retention: Retention) -> dict[str, float]:
    """A day later: prune what expired while a reader keeps querying; time both."""
    clock = ManualClock(wall=NOW + DAY)
    waits: list[float] = []
    async with HistoryStore(path, clock=clock, retention=retention, prune_interval=None) as store:
        began = time.perf_counter()
        pruning = asyncio.create_task(store.prune())
        while not pruning.done():
            asked = time.perf_counter()
            await store.results("bench/check-0000", limit=1)
            waits.append((time.perf_counter() - asked) * 1000)
        deleted = await pruning
        seconds = time.perf_counter() - began
    return {
        "prune_day_rows": deleted,
        "prune_day_seconds": round(seconds, 2),
        "query_wait_while_pruning_ms_median": round(statistics.median(waits), 3),
        "query_wait_while_pruning_ms_max": round(max(waits), 3),
    }


async def raw_cost(directory: Path, *, results: int) -> float:
    """Bytes on disk per raw result (with its roll-ups), written through ``add_result``."""
    clock = ManualClock(wall=NOW)
    rng = random.Random(2)  # noqa: S311 - reproducible data
    empty = directory / "empty.db"
    async with HistoryStore(empty, clock=clock, prune_interval=None):
        pass
    path = directory / "raw.db"
    async with HistoryStore(path, clock=clock, prune_interval=None) as store:
        for i in range(results):
            await store.add_result(
                CheckResult(
                    check_id=f"default/check-{i % 100:03d}",
                    run_id=f"{rng.getrandbits(128):032x}",
                    ok=True,
                    errors=(),
                    started_at=NOW + (i // 100) * 60,
                    duration=rng.lognormvariate(-3, 0.5),
                    observations=(
                        Observation(condition="status == 200", ok=True, observed="200"),
                        Observation(condition="latency < 300ms", ok=True, observed="52ms"),
                    ),
                )
            )
    # Closing the last connection checkpoints the WAL into the file.
    return (path.stat().st_size - empty.stat().st_size) / results


def main() -> None:
    """Fill, measure, print and write the results."""
    defaults = Retention()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--hourly-days", type=int, default=round(defaults.hourly / DAY))
    parser.add_argument("--daily-days", type=int, default=round(defaults.daily / DAY))
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--raw-results", type=int, default=60_000)
    options = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        path = directory / "history.db"
        fill_seconds = fill(
            path,
            checks=options.checks,
            hourly_days=options.hourly_days,
            daily_days=options.daily_days,
        )
        size = path.stat().st_size
        timings = asyncio.run(
            render(
                path, checks=options.checks, daily_days=options.daily_days, repeats=options.repeats
            )
        )
        retention = Retention(
            raw=defaults.raw, hourly=options.hourly_days * DAY, daily=options.daily_days * DAY
        )
        pruning = asyncio.run(prune_a_day(path, retention=retention))
        raw_bytes = asyncio.run(raw_cost(directory, results=options.raw_results))
    load_after = os.getloadavg()
    rows = options.checks * (options.hourly_days * 24 + options.daily_days)
    figures = {
        "checks": options.checks,
        "hourly_days": options.hourly_days,
        "daily_days": options.daily_days,
        "rollup_rows": rows,
        "fill_seconds": round(fill_seconds, 1),
        "db_mib": round(size / 2**20, 1),
        "db_mb": round(size / 1e6, 1),
        "bytes_per_rollup": round(size / rows, 1),
        "target_mb": TARGET_MB,
        "size_met": size / 1e6 <= TARGET_MB,
        "uptime_90d_ms_median": round(timings["uptime_90d_ms_median"], 3),
        "uptime_90d_ms_max": round(timings["uptime_90d_ms_max"], 3),
        "hourly_1d_ms_median": round(timings["hourly_1d_ms_median"], 3),
        "target_uptime_ms": TARGET_UPTIME_MS,
        "met": timings["uptime_90d_ms_median"] <= TARGET_UPTIME_MS,
        **pruning,
        "raw_bytes_per_result": round(raw_bytes, 1),
        "raw_30d_gb_1000_checks_every_60s": round(raw_bytes * 1000 * 30 * 1440 / 1e9, 2),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "cpus": os.cpu_count(),
        "note": load_note(max(load_before[0], load_after[0]), steady="sizes and row counts"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    write_results(RESULTS, figures)


if __name__ == "__main__":
    main()
