"""Benchmark of the history store: file size and uptime-bar latency after a year of roll-ups.

Run: ``.venv/bin/python bench/store.py [--checks 1000] [--days 365]``. Prints the
figures and writes them to ``bench/results/store.json``.

A year of hourly and daily roll-ups for 1,000 checks (one roll-up row per check
per hour, each with a realistic latency sketch) is written straight into a fresh
store file in large transactions — replaying 8.8 million runs through
``add_result`` would measure the insert path, not what we want here. Then the
store is opened as the agent would and a check's 90-day uptime bar (and its last
day of hourly roll-ups, as a dashboard would show) is rendered repeatedly; the
median time is reported. Target: the uptime bar in <= 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from healthwatch.aio import ManualClock
from healthwatch.store import HistoryStore, LatencySketch
from healthwatch.store.schema import connect

RESULTS = Path(__file__).parent / "results" / "store.json"
TARGET_UPTIME_MS = 10.0
HOUR = 3600
DAY = 86400
NOW = 1_700_000_000.0


def fill(path: Path, *, checks: int, days: int) -> float:
    """Write hourly and daily roll-ups for ``checks`` checks over ``days`` days; seconds taken."""
    rng = random.Random(1)  # noqa: S311 - reproducible data
    sketches = [
        LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(60)).dumps() for _ in range(64)
    ]
    first_day = int(NOW // DAY) * DAY - (days - 1) * DAY
    began = time.perf_counter()
    connection = connect(path, busy_timeout=5.0)
    try:
        for check in range(checks):
            check_id = f"bench/check-{check:04d}"
            rows: list[tuple[object, ...]] = []
            for day in range(days):
                day_start = first_day + day * DAY
                for hour in range(24):
                    rows.append(
                        (check_id, "hour", day_start + hour * HOUR, 60, 0, rng.choice(sketches))
                    )
                rows.append((check_id, "day", day_start, 1440, 0, rng.choice(sketches)))
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?)", rows)
            connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return time.perf_counter() - began


async def render(path: Path, *, checks: int, repeats: int) -> tuple[float, float]:
    """Median milliseconds for a 90-day uptime bar, and for a day of hourly roll-ups."""
    clock = ManualClock(wall=NOW)
    uptime_ms: list[float] = []
    hourly_ms: list[float] = []
    async with HistoryStore(path, clock=clock) as store:
        for i in range(repeats):
            check_id = f"bench/check-{(i * 7919) % checks:04d}"
            began = time.perf_counter()
            bar = await store.uptime(check_id, days=90)
            uptime_ms.append((time.perf_counter() - began) * 1000)
            assert len(bar) == 90
            began = time.perf_counter()
            await store.rollups(check_id, "hour", since=NOW - DAY, until=NOW)
            hourly_ms.append((time.perf_counter() - began) * 1000)
    return statistics.median(uptime_ms), statistics.median(hourly_ms)


def main() -> None:
    """Fill, measure, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "history.db"
        fill_seconds = fill(path, checks=options.checks, days=options.days)
        size = path.stat().st_size
        uptime_ms, hourly_ms = asyncio.run(
            render(path, checks=options.checks, repeats=options.repeats)
        )
    figures = {
        "checks": options.checks,
        "days": options.days,
        "rollup_rows": options.checks * options.days * 25,
        "fill_seconds": round(fill_seconds, 1),
        "db_mib": round(size / 2**20, 1),
        "uptime_90d_ms_median": round(uptime_ms, 3),
        "hourly_1d_ms_median": round(hourly_ms, 3),
        "target_uptime_ms": TARGET_UPTIME_MS,
        "met": uptime_ms <= TARGET_UPTIME_MS,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
