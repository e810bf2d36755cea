"""Benchmark of the stats monitor: its CPU share at a 10 s interval, in a fresh process.

Run: ``.venv/bin/python bench/stats.py [--seconds 60] [--interval 10]``. Prints the
figures and writes them under the ``stats`` key of ``bench/results/daemons.json``,
keeping the keys other benchmarks wrote there.

A child process imports the monitor, starts it with the embedded default
(every collector and threshold, on this machine's ``/proc``) and runs it for
``--seconds`` at ``--interval``, while the metrics are rendered to Prometheus
text every 15 s as a scraper would ask. CPU is the child's own user + system
time (``resource.getrusage``) over that window, start-up and imports excluded
(and reported apart). Target: <= 0.3 % of one core. Also reported: CPU per
collection round (mean of 200 rounds), per scrape, and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "daemons.json"
TARGET_CPU_PERCENT = 0.3
SCRAPE_EVERY = 15.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(seconds: float, interval: float) -> dict[str, Any]:
    """Child process: run the monitor for ``seconds``; return its figures."""
    before_imports = _cpu()
    from prometheus_client import CollectorRegistry, generate_latest  # noqa: PLC0415

    from healthwatch.exporters.prometheus import FamiliesCollector  # noqa: PLC0415
    from healthwatch.model.problems import Status  # noqa: PLC0415
    from healthwatch.problems.statsmonitor.config import (  # noqa: PLC0415
        build_stats_monitor,
    )
    from healthwatch.problems.statsmonitor.monitor import StatsMonitor  # noqa: PLC0415

    class Sink:
        statuses = 0

        def report(self, status: Status) -> None:
            del status
            Sink.statuses += 1

    config = build_stats_monitor({"interval": f"{interval:g}s"}, source="benchmark")
    monitor = StatsMonitor(config)
    registry = CollectorRegistry()
    registry.register(FamiliesCollector(lambda: monitor.metric_families("bench")))
    start_cpu = _cpu()
    await monitor.start()
    startup_cpu = _cpu() - start_cpu
    scrapes = 0
    scrape_bytes = 0
    window_cpu = _cpu()
    window_start = time.monotonic()
    task = asyncio.create_task(monitor.run(Sink()), name="stats-monitor-bench")
    while (left := window_start + seconds - time.monotonic()) > 0:
        await asyncio.sleep(min(SCRAPE_EVERY, left))
        if time.monotonic() - window_start < seconds:
            scrape_bytes = len(generate_latest(registry))
            scrapes += 1
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    window = time.monotonic() - window_start
    cpu = _cpu() - window_cpu
    for _ in range(500):  # a round cancelled mid-way still hands its result back
        if not monitor.busy:
            break
        await asyncio.sleep(0.01)
    rounds = monitor.collections
    # CPU of one round and of one scrape, averaged (after the window, not counted in it)
    t0 = _cpu()
    for _ in range(200):
        monitor.collect_once()
    per_round = (_cpu() - t0) / 200
    t0 = _cpu()
    for _ in range(50):
        generate_latest(registry)
    per_scrape = (_cpu() - t0) / 50
    return {
        "interval_seconds": interval,
        "window_seconds": round(window, 3),
        "rounds": rounds,
        "scrapes": scrapes,
        "statuses": Sink.statuses,
        "cpu_seconds": round(cpu, 4),
        "cpu_percent_of_core": round(100 * cpu / window, 4),
        "cpu_ms_per_round": round(per_round * 1000, 3),
        "cpu_ms_per_scrape": round(per_scrape * 1000, 3),
        "scrape_bytes": scrape_bytes,
        "import_cpu_seconds": round(start_cpu - before_imports, 4),
        "startup_cpu_seconds": round(startup_cpu, 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "health": monitor.health()[1],
    }


def _merge(figures: dict[str, Any]) -> None:
    """Write ``figures`` under ``stats``, keeping the other keys of the results file."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            loaded = json.loads(RESULTS.read_text())
        except json.JSONDecodeError:
            loaded = {}
        if isinstance(loaded, dict):
            data = loaded
    data["stats"] = figures
    with tempfile.NamedTemporaryFile(
        "w", dir=RESULTS.parent, prefix=".daemons.", suffix=".json", delete=False
    ) as tmp:
        tmp.write(json.dumps(data, indent=2) + "\n")
    os.replace(tmp.name, RESULTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_measure(args.seconds, args.interval))))
        return
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--seconds",
            str(args.seconds),
            "--interval",
            str(args.interval),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=args.seconds + 120,
    ).stdout
    run: dict[str, Any] = json.loads(out)
    met = run["cpu_percent_of_core"] <= TARGET_CPU_PERCENT
    print(
        f"stats monitor: {run['rounds']} rounds at {run['interval_seconds']:g}s and "
        f"{run['scrapes']} scrapes in {run['window_seconds']:.0f}s: CPU {run['cpu_seconds']:.3f}s"
        f" = {run['cpu_percent_of_core']:.3f} % of a core (target <= {TARGET_CPU_PERCENT:g} %);"
        f" {run['cpu_ms_per_round']:.2f} ms per round, {run['cpu_ms_per_scrape']:.2f} ms per"
        f" scrape; peak RSS {run['peak_rss_mib']:.1f} MiB"
    )
    _merge(
        {
            "benchmark": "stats",
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
            "targets": {"cpu_percent_of_core": TARGET_CPU_PERCENT},
            "run": run,
            "met": {"cpu_percent_of_core": met},
        }
    )
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
