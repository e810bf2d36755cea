"""Benchmark of the health library: listener latency under load, import cost.

Run: ``.venv/bin/python bench/health.py [--duration 10]`` (wrk from Debian must be
installed; ``scripts/test`` installs it). Prints the figures and writes them to
``bench/results/health.json``.

1. ``/livez`` at about 500 requests/s (wrk with a per-connection delay script),
   once with the serving process's asyncio loop idle and once with that loop
   blocked in ``time.sleep``; p50/p99 from wrk's latency distribution. Also the
   saturated throughput with 50 connections. Target: p99 <= 5 ms in both cases.
2. Import time and RSS of ``import healthwatch.health`` over a bare interpreter
   (median of repeated fresh processes). Target: <= 30 ms and <= 2 MiB. The cost
   of importing the whole standard-library core (registry, routes, server) is
   reported beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "health.json"
TARGET_P99_MS = 5.0
TARGET_IMPORT_MS = 30.0
TARGET_IMPORT_MIB = 2.0
RATE = 500
CONNECTIONS = 10
DELAY_MS = CONNECTIONS * 1000 // RATE  # each connection waits this long between requests


def serve(mode: str) -> None:
    """Child process: a registry with a loop watchdog and the standalone listener."""
    from healthwatch.health import HealthRegistry, HealthRoutes, HealthServer  # noqa: PLC0415
    from healthwatch.health.watchdog import watch_event_loop  # noqa: PLC0415

    loop = asyncio.new_event_loop()
    registry = HealthRegistry()
    registry.register("app", groups=("readiness",))
    registry.update("app", "healthy")
    # A long stall limit: this measures the listener's latency, not the watchdog's verdict.
    watch_event_loop(registry, loop, stall_after=3600)
    server = HealthServer(HealthRoutes(registry), port=0)
    server.start()
    print(server.url, flush=True)
    if mode == "blocked":
        loop.call_soon(time.sleep, 3600)  # the application loop never comes back
    loop.run_forever()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, *, duration: int, connections: int, delay_ms: int | None) -> dict[str, Any]:
    """Run wrk and parse throughput, latency percentiles and errors."""
    args = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency"]
    with tempfile.TemporaryDirectory() as tmp:
        if delay_ms is not None:
            script = Path(tmp, "delay.lua")
            script.write_text(f"function delay()\n  return {delay_ms}\nend\n")
            args += ["-s", str(script)]
        out = subprocess.run(
            [*args, url], capture_output=True, text=True, timeout=duration + 30, check=True
        ).stdout
    percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)$", out, re.MULTILINE)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    return {
        "requests_per_sec": rps,
        "p50_ms": percentiles[50],
        "p90_ms": percentiles[90],
        "p99_ms": percentiles[99],
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def http_benchmark(duration: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for mode in ("idle", "blocked"):
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", mode], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip() + "/livez"
            time.sleep(0.5 if mode == "idle" else 1.0)
            paced = wrk(url, duration=duration, connections=CONNECTIONS, delay_ms=DELAY_MS)
            saturated = wrk(url, duration=max(3, duration // 2), connections=50, delay_ms=None)
        finally:
            child.kill()
            child.wait()
        results[mode] = {"paced_500rps": paced, "saturated_50conn": saturated}
        print(
            f"/livez loop {mode:7}: {paced['requests_per_sec']:8.0f} req/s paced, "
            f"p50 {paced['p50_ms']:.3f} ms, p99 {paced['p99_ms']:.3f} ms "
            f"(target <= {TARGET_P99_MS} ms); saturated {saturated['requests_per_sec']:.0f} req/s, "
            f"p99 {saturated['p99_ms']:.2f} ms"
        )
    return results


_MEASURE = """
import re, time
def rss():
    return int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
before = rss(); start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(elapsed * 1000, (rss() - before) / 1024)
"""


def import_cost(statement: str, runs: int = 15) -> dict[str, float]:
    times, sizes = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE.format(statement=statement)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        times.append(float(out[0]))
        sizes.append(float(out[1]))
    return {"median_ms": statistics.median(times), "median_mib": statistics.median(sizes)}


def import_benchmark() -> dict[str, Any]:
    package = import_cost("import healthwatch.health")
    core = import_cost(
        "from healthwatch.health import HealthRegistry, HealthRoutes, HealthServer\n"
        "HealthRegistry()"
    )
    print(
        f"import healthwatch.health: {package['median_ms']:.1f} ms, "
        f"{package['median_mib']:.2f} MiB (targets <= {TARGET_IMPORT_MS} ms, "
        f"<= {TARGET_IMPORT_MIB} MiB); whole core: {core['median_ms']:.1f} ms, "
        f"{core['median_mib']:.2f} MiB"
    )
    return {"import_healthwatch_health": package, "import_core_and_registry": core}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--serve", choices=["idle", "blocked"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (scripts/test installs it)")
    http = http_benchmark(args.duration)
    imports = import_benchmark()
    checks = {
        "p99_idle_ms": http["idle"]["paced_500rps"]["p99_ms"] <= TARGET_P99_MS,
        "p99_blocked_ms": http["blocked"]["paced_500rps"]["p99_ms"] <= TARGET_P99_MS,
        "import_ms": imports["import_healthwatch_health"]["median_ms"] <= TARGET_IMPORT_MS,
        "import_mib": imports["import_healthwatch_health"]["median_mib"] <= TARGET_IMPORT_MIB,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "health",
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "targets": {
                    "p99_ms": TARGET_P99_MS,
                    "import_ms": TARGET_IMPORT_MS,
                    "import_mib": TARGET_IMPORT_MIB,
                    "rate_per_sec": RATE,
                },
                "http": http,
                "imports": imports,
                "met": checks,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"targets met: {checks}\nwritten: {RESULTS}")


if __name__ == "__main__":
    main()
