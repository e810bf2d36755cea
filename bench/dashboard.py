"""Benchmark of the dashboard's overview: 1,000 checks with 90 days of roll-ups.

Run: ``.venv/bin/python bench/dashboard.py [--checks 1000] [--repeats 50]``.
Prints the figures and writes them to ``bench/results/dashboard.json``.

A fresh history file is filled the way ``bench/store.py`` fills one (roll-up rows
written straight into the store's tables, binary sketches of log-normal
latencies around 50 ms): 90 days of daily roll-ups and the last 24 hours of
hourly ones for every check. Unlike a perfectly healthy fleet, some checks have
failing days (one in ten has a few, one in fifty is failing now), so uptime bars
are not all one rectangle. The checks service holds 1,000 specs with a latest
result each (the failing ones with a failed condition and its observed value);
the registry has a dozen components and the recent-problems exporter a raised
condition and some events.

The dashboard is served by aiohttp on a loopback port. Its history cache is
filled first (timed: what the background task does once after start), then the
overview is requested ``--repeats`` times by a real HTTP client; the median and
95th percentile of the request time are the render time (target: median
<= 150 ms). Then again as on a running agent: before each request a second
passes and a thirtieth of the checks have run (every check every 30 s), so the
page also re-reads their history (``running_render_ms_*``). The page weight is
the overview's HTML plus its stylesheet, script and icon, uncompressed (target:
<= 500 KB); the gzip size is given too.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from benchkit import load_note, write_results
from healthwatch.aio import ManualClock
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import build_checks
from healthwatch.exporters.recent import RecentProblems
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess
from healthwatch.health.serializers import ServiceInfo
from healthwatch.model.checks import CheckResult, Observation
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity, Status
from healthwatch.store import HistoryStore, LatencySketch
from healthwatch.store.schema import connect
from healthwatch.web.dashboard import DashboardSources, add_dashboard_routes

RESULTS = Path(__file__).parent / "results" / "dashboard.json"
TARGET_MEDIAN_MS = 150.0
TARGET_KB = 500.0
HOUR = 3600
DAY = 86400
NOW = 1_700_000_000.0


def check_name(index: int) -> tuple[str, str]:
    """Namespace and name of check ``index``: ten namespaces of a hundred checks."""
    return f"team-{index % 10}", f"service-{index:04d}-health"


def fill(path: Path, *, checks: int, days: int) -> float:
    """Daily roll-ups for ``days`` and hourly ones for the last day; seconds taken."""
    rng = random.Random(1)  # noqa: S311 - reproducible data
    hourly = [LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(60)) for _ in range(32)]
    daily = [LatencySketch.of(rng.lognormvariate(-3, 0.5) for _ in range(1440)) for _ in range(32)]
    today = int(NOW // DAY) * DAY
    began = time.perf_counter()
    connection = connect(path, busy_timeout=5.0)
    try:
        connection.executemany(
            "INSERT INTO checks (id, name) VALUES (?, ?)",
            [(i + 1, "/".join(check_name(i))) for i in range(checks)],
        )
        connection.execute("BEGIN")
        for day in range(days - 1, -1, -1):
            start = today - day * DAY
            rows = []
            for i in range(checks):
                failures = 0
                if i % 10 == 3 and rng.random() < 0.1:
                    failures = rng.choice((2, 30, 800))
                if i % 50 == 7 and day == 0:
                    failures = 1440
                rows.append((i + 1, start, 1440, failures, rng.choice(daily).to_bytes()))
            connection.executemany("INSERT INTO rollups_day VALUES (?, ?, ?, ?, ?)", rows)
        for hour in range(24):
            start = (int(NOW) // HOUR - 23 + hour) * HOUR
            connection.executemany(
                "INSERT INTO rollups_hour VALUES (?, ?, 60, 0, ?)",
                [(i + 1, start, rng.choice(hourly).to_bytes()) for i in range(checks)],
            )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return time.perf_counter() - began


def service_of(checks: int) -> CheckService:
    """A checks service (not started) whose checks each have a latest result."""
    entries = []
    for i in range(checks):
        namespace, name = check_name(i)
        entries.append(
            {"name": name, "namespace": namespace, "kind": "http", "interval": "30s",
             "url": f"http://10.0.{i // 250}.{i % 250}:8080/healthz",
             "conditions": ["status == 200", "latency < 300ms"]}
        )  # fmt: skip
    service = CheckService(build_checks(entries, source="bench"), clock=ManualClock(wall=NOW))
    for i, view in enumerate(service.views.values()):
        ok = i % 50 != 7
        observed = "200" if ok else "503"
        view.latest = CheckResult(
            check_id=view.spec.id,
            run_id=f"run-{i}",
            ok=ok,
            errors=() if ok else ("status == 200 (observed 503)",),
            started_at=NOW - 10,
            duration=0.05,
            observations=(
                Observation(condition="status == 200", ok=ok, observed=observed),
                Observation(condition="latency < 300ms", ok=True, observed="50ms"),
            ),
        )
        view.runs = 2880
        view.state.observe(view.latest, failure_threshold=1, success_threshold=1)
    return service


async def problems() -> RecentProblems:
    """A raised condition and a few events, as a log monitor would report them."""
    recent = RecentProblems()
    disk = Condition(
        type="ReadonlyFilesystem",
        status=ConditionStatus.TRUE,
        transition=NOW - 600,
        reason="FilesystemIsReadOnly",
        message="Remounting filesystem read-only",
    )
    events = tuple(
        Event(severity=Severity.WARN, timestamp=NOW - n, reason="OOMKilling",
              message=f"Killed process {n} (java) total-vm:1kB, anon-rss:1kB, file-rss:0kB")
        for n in range(30)
    )  # fmt: skip
    await recent.export(Status(source="kernel-monitor", events=events, conditions=(disk,)))
    return recent


async def measure(path: Path, *, checks: int, repeats: int) -> dict[str, float]:
    """Serve the dashboard on loopback; time the cache fill and the overview requests."""
    clock = ManualClock(wall=NOW)
    registry = HealthRegistry(clock=clock)
    for n in range(12):
        registry.register(f"component-{n}")
        registry.update(f"component-{n}", HealthStatus.HEALTHY, "fine")
    service = service_of(checks)
    figures: dict[str, float] = {}
    async with HistoryStore(path, clock=clock, prune_interval=None) as store:
        app = web.Application()
        routes = add_dashboard_routes(
            app,
            DashboardSources(
                registry=registry,
                access=DetailAccess(),
                info=ServiceInfo(instance="bench-node"),
                checks=lambda: service,
                history=lambda: store,
                problems=await problems(),
            ),
        )
        began = time.perf_counter()
        await routes.cache.refresh(store, service.views.values(), limit=checks)
        figures["cache_fill_seconds"] = time.perf_counter() - began
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with aiohttp.ClientSession() as session:
                times: list[float] = []
                html = b""
                for _ in range(repeats):
                    asked = time.perf_counter()
                    async with session.get(f"{base}/") as answer:
                        html = await answer.read()
                    times.append((time.perf_counter() - asked) * 1000)
                # As the agent runs: every second a thirtieth of the checks (30 s periods) ran,
                # so each view also reads the history of those whose entry is 5 s old.
                running: list[float] = []
                views = list(service.views.values())
                for second in range(repeats):
                    clock.advance(1.0)
                    for view in views[second * checks // 30 % checks :][: checks // 30]:
                        view.runs += 1
                    asked = time.perf_counter()
                    async with session.get(f"{base}/") as answer:
                        await answer.read()
                    running.append((time.perf_counter() - asked) * 1000)
                assets = 0
                for name in ("dashboard.css", "dashboard.js", "favicon.svg"):
                    async with session.get(f"{base}/static/{name}") as answer:
                        assets += len(await answer.read())
                asked = time.perf_counter()
                async with session.get(f"{base}/api/v1/dashboard") as answer:
                    live = await answer.read()
                figures["live_state_ms"] = (time.perf_counter() - asked) * 1000
        finally:
            await runner.cleanup()
    registry.close()
    assert html.count(b'<tr><th><a href="/checks/') == checks, "every check is on the page"
    figures.update(
        render_ms_median=statistics.median(times),
        render_ms_p95=statistics.quantiles(times, n=20)[-1],
        render_ms_min=min(times),
        running_ms_median=statistics.median(running),
        running_ms_p95=statistics.quantiles(running, n=20)[-1],
        html_bytes=len(html),
        asset_bytes=assets,
        html_gzip_bytes=len(gzip.compress(html)),
        live_state_bytes=len(live),
    )
    return figures


def main() -> None:
    """Fill, measure, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeats", type=int, default=50)
    options = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "history.db"
        fill_seconds = fill(path, checks=options.checks, days=options.days)
        timings = asyncio.run(measure(path, checks=options.checks, repeats=options.repeats))
    load_after = os.getloadavg()
    weight_kb = (timings["html_bytes"] + timings["asset_bytes"]) / 1000
    figures = {
        "checks": options.checks,
        "days": options.days,
        "repeats": options.repeats,
        "fill_seconds": round(fill_seconds, 1),
        "cache_fill_seconds": round(timings["cache_fill_seconds"], 3),
        "render_ms_median": round(timings["render_ms_median"], 1),
        "render_ms_p95": round(timings["render_ms_p95"], 1),
        "render_ms_min": round(timings["render_ms_min"], 1),
        "running_render_ms_median": round(timings["running_ms_median"], 1),
        "running_render_ms_p95": round(timings["running_ms_p95"], 1),
        "target_render_ms_median": TARGET_MEDIAN_MS,
        "render_met": max(timings["render_ms_median"], timings["running_ms_median"])
        <= TARGET_MEDIAN_MS,
        "html_kb": round(timings["html_bytes"] / 1000, 1),
        "assets_kb": round(timings["asset_bytes"] / 1000, 1),
        "page_weight_kb": round(weight_kb, 1),
        "html_gzip_kb": round(timings["html_gzip_bytes"] / 1000, 1),
        "target_page_weight_kb": TARGET_KB,
        "weight_met": weight_kb <= TARGET_KB,
        "met": max(timings["render_ms_median"], timings["running_ms_median"]) <= TARGET_MEDIAN_MS
        and weight_kb <= TARGET_KB,
        "live_state_ms": round(timings["live_state_ms"], 1),
        "live_state_kb": round(timings["live_state_bytes"] / 1000, 1),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "cpus": os.cpu_count(),
        "note": load_note(max(load_before[0], load_after[0]), steady="sizes"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    write_results(RESULTS, figures)


if __name__ == "__main__":
    main()
