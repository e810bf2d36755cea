"""Benchmark of the plugin monitor: 200 real plugins every 10 s, 8 at a time, for 2 minutes.

Run: ``.venv/bin/python bench/plugins.py [--duration 120] [--quick]``. Prints the
figures and writes them under the ``plugins`` key of ``bench/results/daemons.json``,
keeping the keys other benchmarks wrote there.

A child process (fresh interpreter) writes ``--plugins`` small ``#!/bin/sh`` plugin
scripts (nine in ten exit 0 silently, one in ten prints a line and exits 1; a tenth
of them drive permanent conditions), builds one plugin monitor over them with
``--interval`` and ``--concurrency``, and runs it through the ``Detector`` with a
counting exporter, as the agent does, for ``--duration`` seconds. Each invocation's
lateness (how long after its scheduled tick it started, permit waits included) is
recorded through the monitor's ``on_invocation`` hook.

Figures: CPU of the agent process itself (user + system of ``RUSAGE_SELF``: the
plugin processes are children and not counted; their own CPU is shown apart), as
a share of one core over the run; lateness max, p50, p99 and the count over 1 s;
invocations against the number of ticks that fully passed; peak RSS. Targets:
agent CPU <= 3 % of a core, no invocation later than 1 s. ``--quick`` runs 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "daemons.json"
TARGET_CPU_PERCENT = 3.0
TARGET_MAX_LATENESS = 1.0
QUICK_DURATION = 30.0


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _write_plugins(directory: Path, count: int) -> list[dict[str, Any]]:
    """The plugin scripts and the rules running them (our YAML form)."""
    directory.mkdir(parents=True, exist_ok=True)
    rules: list[dict[str, Any]] = []
    for i in range(count):
        path = directory / f"plugin-{i:03d}.sh"
        body = f"echo plugin {i} found a problem\nexit 1\n" if i % 10 == 9 else "exit 0\n"
        path.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
        path.chmod(0o755)
        if i % 10 == 0:
            rules.append(
                {
                    "type": "permanent",
                    "condition": f"Problem{i:03d}",
                    "reason": f"Problem{i:03d}Found",
                    "path": str(path),
                }
            )
        else:
            rules.append({"type": "temporary", "reason": f"Plugin{i:03d}", "path": str(path)})
    return rules


async def _measure(options: dict[str, Any]) -> dict[str, Any]:
    """Child process: run the monitor through the detector; the figures as a dict."""
    from healthwatch.aio.clock import SystemClock  # noqa: PLC0415
    from healthwatch.detector import Detector  # noqa: PLC0415
    from healthwatch.health.registry import HealthRegistry  # noqa: PLC0415
    from healthwatch.model.problems import ProblemDeclaration, Status  # noqa: PLC0415
    from healthwatch.problems.pluginmonitor.config import build_plugin_monitor  # noqa: PLC0415
    from healthwatch.problems.pluginmonitor.monitor import (  # noqa: PLC0415
        Invocation,
        PluginMonitor,
    )

    class CountingExporter:
        name = "counting"

        def __init__(self) -> None:
            self.statuses = 0
            self.events = 0

        def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
            del declarations

        async def export(self, status: Status) -> None:
            self.statuses += 1
            self.events += len(status.events)

    directory = Path(options["directory"])
    rules = _write_plugins(directory / "plugins", options["plugins"])
    conditions = [
        {"type": r["condition"], "reason": f"{r['condition']}Absent", "message": "fine"}
        for r in rules
        if r["type"] == "permanent"
    ]
    config = build_plugin_monitor(
        {
            "name": "bench-plugins",
            "interval": options["interval"],
            "timeout": 5,
            "concurrency": options["concurrency"],
            "conditions": conditions,
            "rules": rules,
        },
        source="bench",
    )
    clock = SystemClock()
    monitor = PluginMonitor(config, clock=clock, state_dir=directory / "state")
    lateness: list[float] = []
    kinds: dict[str, int] = {}

    def observe(invocation: Invocation) -> None:
        lateness.append(invocation.lateness)
        kinds[str(invocation.outcome.kind)] = kinds.get(str(invocation.outcome.kind), 0) + 1

    monitor.on_invocation = observe
    registry = HealthRegistry(clock=clock)
    registry.mark_started()
    exporter = CountingExporter()
    detector = Detector([monitor], [exporter], registry=registry)
    cpu0, children0, wall0 = _self_cpu(), _children_cpu(), time.monotonic()
    await detector.start()
    await asyncio.sleep(options["duration"])
    cpu1, children1, wall1 = _self_cpu(), _children_cpu(), time.monotonic()
    health = monitor.health()
    await detector.stop(flush_timeout=2.0)
    wall = wall1 - wall0
    ticks = int(options["duration"] // options["interval"])  # ticks that fully passed
    ordered = sorted(lateness)
    return {
        "plugins": options["plugins"],
        "interval_s": options["interval"],
        "concurrency": options["concurrency"],
        "duration_s": round(wall, 3),
        "invocations": len(lateness),
        "invocations_expected_at_least": options["plugins"] * ticks,
        "results": kinds,
        "statuses_exported": exporter.statuses,
        "agent_cpu_seconds": round(cpu1 - cpu0, 3),
        "agent_cpu_percent": round(100.0 * (cpu1 - cpu0) / wall, 3),
        "plugin_cpu_seconds": round(children1 - children0, 3),
        "lateness_max_s": round(ordered[-1], 4) if ordered else None,
        "lateness_p50_s": round(statistics.median(ordered), 4) if ordered else None,
        "lateness_p99_s": round(ordered[int(0.99 * (len(ordered) - 1))], 4) if ordered else None,
        "late_over_1s": sum(1 for value in ordered if value > 1.0),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "health": f"{health[0]}: {health[1]}",
    }


def _merge(figures: dict[str, Any]) -> None:
    """Put ``figures`` under ``plugins`` in the results file, keeping the other keys."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if RESULTS.exists():
        try:
            loaded = json.loads(RESULTS.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            loaded = {}
        if isinstance(loaded, dict):
            data = loaded
    data["plugins"] = figures
    with tempfile.NamedTemporaryFile(
        "w", dir=RESULTS.parent, prefix=".daemons.", suffix=".json", delete=False
    ) as tmp:
        tmp.write(json.dumps(data, indent=2) + "\n")
    os.replace(tmp.name, RESULTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds to run")
    parser.add_argument("--quick", action="store_true", help=f"run {QUICK_DURATION:g} s only")
    parser.add_argument("--plugins", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_measure(json.loads(args.child)))))
        return
    duration = QUICK_DURATION if args.quick else args.duration
    with tempfile.TemporaryDirectory(prefix="bench-plugins-") as directory:
        options = {
            "directory": directory,
            "plugins": args.plugins,
            "interval": args.interval,
            "concurrency": args.concurrency,
            "duration": duration,
        }
        child = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(options)],
            capture_output=True,
            text=True,
            timeout=duration + 120,
            check=False,
        )
    if child.returncode != 0:
        sys.exit(f"benchmark child failed ({child.returncode}):\n{child.stderr}")
    run = json.loads(child.stdout)
    met = {
        "agent_cpu": run["agent_cpu_percent"] <= TARGET_CPU_PERCENT,
        "lateness": run["lateness_max_s"] is not None
        and run["lateness_max_s"] <= TARGET_MAX_LATENESS,
        "invocations": run["invocations"] >= run["invocations_expected_at_least"],
    }
    figures = {
        "benchmark": "plugins",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "targets": {
            "agent_cpu_percent": TARGET_CPU_PERCENT,
            "lateness_max_s": TARGET_MAX_LATENESS,
        },
        "run": run,
        "targets_met": met,
    }
    _merge(figures)
    print(json.dumps(figures, indent=2))
    print(f"targets met: {all(met.values())}\nwritten: {RESULTS}")


if __name__ == "__main__":
    main()
