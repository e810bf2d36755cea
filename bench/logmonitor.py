"""Benchmark of the log monitor on a 1,000,000-line kernel log, through the agent's code path.

Run: ``.venv/bin/python bench/logmonitor.py [--lines 1000000] [--input FILE]``. Prints
the figures and writes ``bench/results/logmonitor.json``.

1. Throughput: a kernel log from ``bench/kernlog.py`` (about 0.1 % problem lines, a
   hung-task marker last) is followed from its start by a ``FileSource`` inside a
   ``LogMonitor`` with the kernel rule pack, run by the ``Detector`` with the
   Prometheus problem-metrics exporter, in a fresh process. The clock stops when the
   marker's event reaches the exporters. Reported: lines/s, CPU seconds, peak RSS,
   and whether the counts equal the generator's. Targets: >= 250,000 lines/s and
   peak RSS <= 50 MiB (node-problem-detector: about 98,000 lines/s and 43 MiB here).
   ``--input`` runs over another file in the same format instead (for example the
   node-problem-detector comparison input); counts are then checked against its
   ``.expected.json`` sidecar when there is one.
2. Idle: ``healthwatch run`` with the embedded default for ``--idle`` seconds (60 by
   default); CPU share of one core and RSS. Targets: <= 0.2 % and <= 45 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
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
RESULTS = HERE / "results" / "logmonitor.json"
TARGET_LINES_PER_S = 250_000
TARGET_PEAK_MIB = 50.0
TARGET_IDLE_CPU = 0.2
TARGET_IDLE_MIB = 45.0
MARKER = "bench_final_marker"


async def _measure(path: str) -> dict[str, Any]:
    """Child process: follow ``path`` from its start until the marker is reported."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    from healthwatch.aio.clock import ManualClock  # noqa: PLC0415
    from healthwatch.detector import Detector  # noqa: PLC0415
    from healthwatch.exporters.prometheus import ProblemMetrics  # noqa: PLC0415
    from healthwatch.health.registry import HealthRegistry  # noqa: PLC0415
    from healthwatch.model.problems import ProblemDeclaration, Status  # noqa: PLC0415
    from healthwatch.problems.logmonitor.config import (  # noqa: PLC0415
        LogMonitorSpec,
        TimestampSpec,
        build_log_monitor,
    )
    from healthwatch.problems.logmonitor.monitor import LogMonitor  # noqa: PLC0415

    spec = LogMonitorSpec(
        name="kernel-monitor",
        source="file",
        path=path,
        packs=["kernel"],
        lookback="3650d",
        timestamp=TimestampSpec(regex=r"^.{15}", format="Jan _2 15:04:05"),
        message=r"kernel: (?:\[\s*[0-9.]+\] )?(.*)",
    )
    config = build_log_monitor(spec, source="benchmark")
    done = asyncio.Event()
    counts: dict[str, int] = {}

    class MarkerWatch:
        name = "marker"

        def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
            del declarations

        async def export(self, status: Status) -> None:
            for event in status.events:
                counts[event.reason] = counts.get(event.reason, 0) + 1
                if MARKER in event.message:
                    done.set()

    registry = HealthRegistry(clock=ManualClock())
    metrics = CollectorRegistry()
    monitor = LogMonitor(config, state_dir=None)
    detector = Detector(
        [monitor], [ProblemMetrics(metrics), MarkerWatch()], registry=registry, queue_size=100_000
    )
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    await detector.start()
    await asyncio.wait_for(done.wait(), timeout=600)
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    lines = monitor.source.stats.lines
    await detector.stop()
    return {
        "lines": lines,
        "seconds": wall,
        "lines_per_sec": lines / wall,
        "cpu_seconds": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "problem_counter": counts,
    }


def throughput(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    sidecar = path.with_suffix(path.suffix + ".expected.json")
    if sidecar.exists():
        expected = json.loads(sidecar.read_text())["expected_problem_counter"]
        result["expected_problem_counter"] = expected
        result["counts_match"] = result["problem_counter"] == expected
    print(
        f"log monitor: {result['lines']:,} lines in {result['seconds']:.2f}s = "
        f"{result['lines_per_sec']:,.0f} lines/s (target >= {TARGET_LINES_PER_S:,}); "
        f"CPU {result['cpu_seconds']:.2f}s; peak RSS {result['peak_rss_mib']:.1f} MiB "
        f"(target <= {TARGET_PEAK_MIB:g}); counts match: {result.get('counts_match')}"
    )
    return result


def _proc_figures(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    rss = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return ticks / os.sysconf("SC_CLK_TCK"), rss / 1024


def idle(seconds: int) -> dict[str, Any]:
    """The agent on its embedded default, doing nothing for ``seconds``."""
    with tempfile.TemporaryDirectory() as state:
        agent = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "healthwatch",
                "run",
                "--state-dir",
                state,
                "--listen",
                "127.0.0.1:0",
                "--health-listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not Path(state, "agent.json").exists():
                if time.monotonic() > deadline or agent.poll() is not None:
                    raise RuntimeError("the agent did not start")
                time.sleep(0.05)
            time.sleep(2)  # let start-up settle
            cpu0, _ = _proc_figures(agent.pid)
            time.sleep(seconds)
            cpu1, rss = _proc_figures(agent.pid)
        finally:
            agent.terminate()
            agent.wait(timeout=15)
    result = {"seconds": seconds, "cpu_percent": 100 * (cpu1 - cpu0) / seconds, "rss_mib": rss}
    print(
        f"idle agent: {result['cpu_percent']:.3f} % of a core (target <= {TARGET_IDLE_CPU}), "
        f"RSS {rss:.1f} MiB (target <= {TARGET_IDLE_MIB:g})"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--input", type=Path, help="run over this file instead of generating")
    parser.add_argument("--idle", type=int, default=60, help="seconds of idle measurement")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_measure(args.child))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.input
        if path is None:
            path = Path(tmp, "kern.log")
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "kernlog.py"),
                    "--out",
                    str(path),
                    "--lines",
                    str(args.lines),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=600,
            )
        run = throughput(path)
    quiet = idle(args.idle) if args.idle > 0 else None
    met = {
        "lines_per_sec": run["lines_per_sec"] >= TARGET_LINES_PER_S,
        "peak_rss_mib": run["peak_rss_mib"] <= TARGET_PEAK_MIB,
        "counts_match": bool(run.get("counts_match", True)),
    }
    if quiet is not None:
        met["idle_cpu_percent"] = quiet["cpu_percent"] <= TARGET_IDLE_CPU
        met["idle_rss_mib"] = quiet["rss_mib"] <= TARGET_IDLE_MIB
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "logmonitor",
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "targets": {
                    "lines_per_sec": TARGET_LINES_PER_S,
                    "peak_rss_mib": TARGET_PEAK_MIB,
                    "idle_cpu_percent": TARGET_IDLE_CPU,
                    "idle_rss_mib": TARGET_IDLE_MIB,
                },
                "throughput": run,
                "idle": quiet,
                "met": met,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"targets met: {met}\nwritten: {RESULTS}")


if __name__ == "__main__":
    main()
