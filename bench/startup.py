"""Benchmark of ``healthwatch run`` cold start: process start to ``/readyz`` 200.

Run: ``.venv/bin/python bench/startup.py [--runs 9]``. Prints the figures and
writes them to ``bench/results/startup.json``.

Each run starts ``python -m healthwatch run`` as a fresh process with ``HOME`` set
to a fresh temporary directory (no ``XDG_STATE_HOME``), so the agent creates its
state directory and starts the embedded default: the kernel rule pack on the best
log source, the stats monitor, the self check, the SQLite store, the health,
metrics and web listeners. Only the ports are given (free loopback ports chosen
beforehand), so the health listener can be polled from the moment the process
starts. Measured from just before the process is spawned until ``/readyz``
answers 200 (and, separately, until the dashboard at ``/`` answers 200), polling
every 10 ms. One start before the measured ones is not counted: it compiles byte-code
changed since the last import, which an installed package has done already. Each
measured start still has a fresh home and fresh state. Target: median <= 1.5 s.
The interpreter's own start-up (``python -c pass``) and ``healthwatch version`` are
measured beside it for context.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "startup.json"
TARGET_READY_MS = 1500.0
POLL = 0.01
GIVE_UP = 20.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def one_start() -> dict[str, float]:
    """Start the agent in a fresh home; milliseconds to ready and to the dashboard."""
    with tempfile.TemporaryDirectory() as home:
        health, web = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k != "XDG_STATE_HOME"}
        env.update(HOME=home, NO_COLOR="1")
        argv = [sys.executable, "-m", "healthwatch", "run"]
        argv += ["--health-listen", f"127.0.0.1:{health}", "--listen", f"127.0.0.1:{web}"]
        argv += ["--metrics-listen", "127.0.0.1:0"]
        started = time.perf_counter()
        process = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            ready = dashboard = None
            while ready is None or dashboard is None:
                now = time.perf_counter() - started
                if now > GIVE_UP or process.poll() is not None:
                    raise RuntimeError(f"agent not ready after {now:.1f}s (exit {process.poll()})")
                if ready is None and answers_200(f"http://127.0.0.1:{health}/readyz"):
                    ready = time.perf_counter() - started
                if dashboard is None and answers_200(f"http://127.0.0.1:{web}/"):
                    dashboard = time.perf_counter() - started
                time.sleep(POLL)
            state = Path(home, ".local", "state", "healthwatch")
            mode = state.stat().st_mode & 0o777
            if mode != 0o700:
                raise RuntimeError(f"state directory {state} has mode {mode:o}, not 700")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    return {"readyz_ms": round(ready * 1000, 1), "dashboard_ms": round(dashboard * 1000, 1)}


def command_ms(argv: list[str], runs: int = 7) -> float:
    """Median wall time of a short command, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    warm_up = one_start()  # byte-code compiled and files cached, as on an installed machine
    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = [one_start() for _ in range(args.runs)]
    ready = [r["readyz_ms"] for r in runs]
    dashboard = [r["dashboard_ms"] for r in runs]
    median_ready = round(statistics.median(ready), 1)
    result: dict[str, Any] = {
        "benchmark": "startup",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": load_before,
        },
        "targets": {"readyz_ms_median": TARGET_READY_MS},
        "runs": len(runs),
        "readyz_ms_median": median_ready,
        "readyz_ms_min": min(ready),
        "readyz_ms_max": max(ready),
        "dashboard_ms_median": round(statistics.median(dashboard), 1),
        "warm_up_run_not_counted": warm_up,
        "all_runs": runs,
        "context": {
            "python_c_pass_ms": command_ms([sys.executable, "-c", "pass"]),
            "healthwatch_version_ms": command_ms([sys.executable, "-m", "healthwatch", "version"]),
        },
        "met": median_ready <= TARGET_READY_MS,
    }
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
