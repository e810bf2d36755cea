"""Benchmark of synthetic checks at scale: 10,000 HTTP checks every 10 s, the agent on one core.

Run: ``.venv/bin/python bench/checks.py [--quick] [--ramp] [--checks N] [--interval S]
[--duration S] [--out FILE]``. Prints the figures and writes ``bench/results/checks.json``
(``--quick`` writes nothing unless ``--out`` is given).

1. Steady run: a config of ``--checks`` http checks (distinct names, eight paths of one
   local keep-alive target server, four kinds of conditions) is run by the real agent
   (``healthwatch run``) pinned to CPU 0 for ``--duration`` seconds (180); the target
   server and this script are pinned to CPU 1. ``--quick``: 2,000 checks every 2 s (the
   same 1,000 runs/s) for 20 s. After one interval of warm-up the agent's ``/metrics``
   is scraped every ``--scrape-every`` seconds (10), as Prometheus would. Reported:
   runs/s (``healthwatch_check_scheduler_runs``), start lateness p50/p99 over the whole
   window and the worst p99 between two scrapes (``histogram_quantile`` over the
   ``healthwatch_check_schedule_lateness_seconds`` buckets), RSS (peak and final, from
   ``/proc``), CPU share of one core (event loop and other threads), scrape time, failed
   check runs and the rows that reached ``history.db``. Targets: >= 1,000 runs/s (within
   0.5 %: the window's ends are known to a scrape's latency), p99 lateness <= 100 ms,
   RSS <= 250 MiB.
2. ``--ramp``: the agent with ``--ramp-checks`` checks at shorter and shorter intervals
   (x1.25 a step from 1,000 runs/s) until a step is not sustained (p99 lateness over 1 s
   or fewer than 97 % of the planned runs); the most checks/s one core sustains is the
   best step that was.

The load average and the CPU other processes used during the window are recorded, so a
figure taken on a busy machine says so.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "checks.json"
TARGET_RUNS_PER_S = 1000.0
RUNS_TOLERANCE = 0.005
TARGET_P99_S = 0.100
TARGET_RSS_MIB = 250.0
RAMP_P99_LIMIT_S = 1.0
RAMP_MIN_SHARE = 0.97
PATHS = 8
AGENT_CPU, OTHER_CPU = 0, 1
TICK = os.sysconf("SC_CLK_TCK")
CONDITIONS = (
    ["status == 200"],
    ["status == 200", "latency < 1s"],
    ['json.status == "ok"'],
    ["status < 400", 'headers["Content-Type"] contains "json"'],
)


_REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n"
    b"Connection: keep-alive\r\n\r\n"
    b'{"status": "ok"}'
)


def serve() -> None:
    """Child process: the target server, printing its port, until killed.

    A bare asyncio protocol answering every GET with the same small JSON document over
    keep-alive: tens of thousands of answers a second on one core, so the target is never
    what limits the agent.
    """
    import asyncio  # noqa: PLC0415

    class Target(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport, self.pending = transport, b""

        def data_received(self, data: bytes) -> None:
            self.pending += data
            requests = self.pending.count(b"\r\n\r\n")  # GETs without a body
            if requests:
                self.pending = self.pending[self.pending.rindex(b"\r\n\r\n") + 4 :]
                self.transport.write(_REPLY * requests)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Target, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        ended = asyncio.Event()  # stdin is the benchmark's pipe: EOF when it ends, however
        loop.add_reader(sys.stdin.fileno(), ended.set)
        await ended.wait()
        server.close()

    asyncio.run(main())


def pin(pid: int, cpu: int) -> bool:
    """Pin ``pid`` (0: this process) to ``cpu``; False where there is no such CPU."""
    if (os.cpu_count() or 1) <= cpu:
        return False
    os.sched_setaffinity(pid, {cpu})
    return True


def write_config(path: Path, *, checks: int, interval: float, port: int) -> None:
    lines = ["agent: {log_level: warning}", "log_monitors: []", "checks:"]
    timeout = min(5.0, interval)
    for i in range(checks):
        url = f"http://127.0.0.1:{port}/p/{i % PATHS}"
        lines.append(
            f"  - {{name: c{i:05d}, namespace: bench, kind: http, url: '{url}', "
            f"interval: {interval:.6g}, timeout: {timeout:.6g}, "
            f"conditions: {json.dumps(CONDITIONS[i % len(CONDITIONS)])}}}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def proc(pid: int) -> dict[str, float]:
    """CPU seconds, RSS and peak RSS (MiB) of ``pid``, all threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "cpu": (int(fields[11]) + int(fields[12])) / TICK,
        "rss": int(status["VmRSS"].split()[0]) / 1024,
        "hwm": int(status["VmHWM"].split()[0]) / 1024,
    }


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of ``pid``'s event-loop (main) thread and of its other threads."""
    found = {"event loop": 0.0, "other threads": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = task.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
        name = "event loop" if task.name == str(pid) else "other threads"
        found[name] += (int(fields[11]) + int(fields[12])) / TICK
    return found


def busy_cpu_seconds() -> float:
    """Non-idle CPU seconds of the whole machine, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK  # minus idle and iowait


_SAMPLE = re.compile(r"^(healthwatch_check_\w+)\{([^}]*)\} (\S+)$", re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')
_LATENESS = "healthwatch_check_schedule_lateness_seconds_bucket"


def scrape(url: str) -> dict[str, Any]:
    """The scheduler's counters, the lateness histogram and failed check runs, from /metrics."""
    at = time.monotonic()  # the agent reads its counters as the request arrives
    with urllib.request.urlopen(url, timeout=60) as reply:
        text = reply.read().decode()
    out: dict[str, Any] = {"at": at, "scrape_s": time.monotonic() - at, "bytes": len(text)}
    events: dict[str, float] = {}
    buckets: dict[float, float] = {}
    failed = 0.0
    for name, labels, value in _SAMPLE.findall(text):
        found = dict(_LABEL.findall(labels))
        if name == "healthwatch_check_scheduler_runs_total":
            events[found["event"]] = float(value)
        elif name == _LATENESS:
            buckets[float(found["le"])] = float(value)  # float("+Inf") is inf
        elif name == "healthwatch_check_runs_total" and found.get("outcome") == "failed":
            failed += float(value)
    return {**out, "events": events, "buckets": buckets, "failed": failed}


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """``q`` of a histogram's cumulative ``buckets``, interpolated as ``histogram_quantile``."""
    total = buckets.get(math.inf, 0.0)
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound in sorted(buckets):
        if buckets[bound] >= rank:
            if math.isinf(bound):
                return lower  # beyond the last bound: at least this
            share = (rank - below) / (buckets[bound] - below) if buckets[bound] > below else 1
            return lower + (bound - lower) * share
        lower, below = bound, buckets[bound]
    return lower


def window(first: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """Rates and lateness between two scrapes."""
    seconds = last["at"] - first["at"]
    delta = {k: last["events"].get(k, 0) - first["events"].get(k, 0) for k in last["events"]}
    buckets = {b: n - first["buckets"].get(b, 0) for b, n in last["buckets"].items()}
    started = buckets.get(math.inf, 0.0)
    return {
        "seconds": seconds,
        "runs_per_s": delta.get("completed", 0) / seconds,
        "started_per_s": delta.get("started", 0) / seconds,
        "lateness_p50_s": quantile(0.50, buckets),
        "lateness_p99_s": quantile(0.99, buckets),
        "share_started_within_100ms": (buckets.get(TARGET_P99_S, 0) / started) if started else None,
        "skipped_overlap": delta.get("skipped_overlap", 0),
        "skipped_behind": delta.get("skipped_behind", 0),
        "runner_raised": delta.get("failed", 0),
        "failed_check_runs": last["failed"] - first["failed"],
    }


def run_agent(
    tmp: Path, port: int, *, checks: int, interval: float, measure: float, scrape_every: float
) -> dict[str, Any]:
    """Start the agent on CPU 0 with ``checks`` checks, warm up one interval, measure."""
    state, config = tmp / f"state-{checks}-{interval:g}", tmp / f"checks-{checks}.yaml"
    write_config(config, checks=checks, interval=interval, port=port)
    argv = [str(Path(sys.executable).parent / "healthwatch"), "run", "--config", str(config)]
    argv += ["--state-dir", str(state), "--listen", "127.0.0.1:0"]
    argv += ["--health-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]
    launched = time.monotonic()
    with (tmp / "agent.log").open("ab") as log:
        agent = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
    pinned = pin(agent.pid, AGENT_CPU)
    try:
        while not (state / "agent.json").exists():
            if time.monotonic() - launched > 120 or agent.poll() is not None:
                tail = (tmp / "agent.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the agent did not start:\n{tail}")
            time.sleep(0.05)
        started_in = time.monotonic() - launched
        url = json.loads((state / "agent.json").read_text())["metrics"]
        at_start = proc(agent.pid)
        time.sleep(interval + 2.0)  # every check has had its first run
        scrapes = [scrape(url)]
        cpu0, busy0 = proc(agent.pid)["cpu"], busy_cpu_seconds()
        threads0 = thread_cpu(agent.pid)
        own0 = sum(proc(p)["cpu"] for p in (os.getpid(), port_owner(port)))
        rss_max, end = 0.0, scrapes[0]["at"] + measure
        while (now := time.monotonic()) < end:
            time.sleep(min(1.0, end - now))
            rss_max = max(rss_max, proc(agent.pid)["rss"])
            if time.monotonic() - scrapes[-1]["at"] >= scrape_every - 0.5:
                scrapes.append(scrape(url))
        if time.monotonic() - scrapes[-1]["at"] > 1.0:
            scrapes.append(scrape(url))
        final = proc(agent.pid)
        threads1 = thread_cpu(agent.pid)
        own1 = sum(proc(p)["cpu"] for p in (os.getpid(), port_owner(port)))
        busy1 = busy_cpu_seconds()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(agent.pid, signal.SIGTERM)
        agent.wait(timeout=60)
    result = window(scrapes[0], scrapes[-1])
    seconds = result["seconds"]
    spans = [window(a, b)["lateness_p99_s"] or 0.0 for a, b in itertools.pairwise(scrapes)]
    result.update(
        checks=checks,
        interval_s=interval,
        planned_runs_per_s=checks / interval,
        agent_pinned_to_cpu=AGENT_CPU if pinned else None,
        startup_s=started_in,
        rss_after_start_mib=at_start["rss"],
        rss_max_mib=max(rss_max, final["rss"]),
        rss_peak_mib=final["hwm"],
        rss_final_mib=final["rss"],
        agent_cpu_percent=100 * (final["cpu"] - cpu0) / seconds,
        other_cpu_percent=max(
            0.0, 100 * ((busy1 - busy0) - (final["cpu"] - cpu0) - (own1 - own0)) / seconds
        ),
        agent_threads_cpu_percent={
            name: round(100 * (cpu - threads0.get(name, 0.0)) / seconds, 1)
            for name, cpu in sorted(threads1.items())
            if cpu - threads0.get(name, 0.0) > 0
        },
        worst_scrape_interval_p99_s=max(spans, default=None),
        scrapes=len(scrapes),
        scrape_s_max=max(s["scrape_s"] for s in scrapes),
        scrape_bytes=scrapes[-1]["bytes"],
        history_rows=history_rows(state / "history.db"),
        runs_total=scrapes[-1]["events"].get("completed", 0),
    )
    return result


_SERVER_PID: dict[int, int] = {}


def port_owner(port: int) -> int:
    return _SERVER_PID[port]


def history_rows(path: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            return int(db.execute("SELECT count(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return None


def show(label: str, r: dict[str, Any]) -> None:
    p50, p99 = r["lateness_p50_s"] or 0.0, r["lateness_p99_s"] or 0.0
    print(
        f"{label}: {r['checks']:,} checks / {r['interval_s']:g}s: {r['runs_per_s']:,.0f} runs/s "
        f"(planned {r['planned_runs_per_s']:,.0f}); lateness p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms (worst {r['worst_scrape_interval_p99_s'] * 1000:.0f} ms); "
        f"RSS peak {r['rss_peak_mib']:.0f} MiB, final {r['rss_final_mib']:.0f} MiB; "
        f"agent CPU {r['agent_cpu_percent']:.0f} %, others {r['other_cpu_percent']:.0f} %; "
        f"threads {r['agent_threads_cpu_percent']}; "
        f"scrape max {r['scrape_s_max']:.2f}s; failed runs {r['failed_check_runs']:.0f}; "
        f"skipped {r['skipped_overlap'] + r['skipped_behind']:.0f}",
        flush=True,
    )


def sustained(r: dict[str, Any]) -> bool:
    p99 = r["lateness_p99_s"]
    enough = r["runs_per_s"] >= RAMP_MIN_SHARE * r["planned_runs_per_s"]
    return p99 is not None and p99 <= RAMP_P99_LIMIT_S and enough


def ramp(tmp: Path, port: int, *, checks: int, measure: float, every: float) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    rate = 1000.0
    while checks / rate >= 1.0:  # intervals under 1 s are not allowed
        step = run_agent(
            tmp, port, checks=checks, interval=checks / rate, measure=measure, scrape_every=every
        )
        step["sustained"] = sustained(step)
        show(f"ramp {rate:,.0f}/s {'ok' if step['sustained'] else 'NOT sustained'}", step)
        steps.append(step)
        if not step["sustained"]:
            break
        rate *= 1.25
    best = max((s["runs_per_s"] for s in steps if s["sustained"]), default=None)
    return {"steps": steps, "max_sustained_runs_per_s": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 checks every 2 s for 20 s")
    parser.add_argument("--checks", type=int)
    parser.add_argument("--interval", type=float)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--scrape-every", type=float, default=10.0)
    parser.add_argument("--ramp", action="store_true", help="find the most checks/s")
    parser.add_argument("--ramp-checks", type=int, default=10_000)
    parser.add_argument("--ramp-step", type=float, help="seconds measured per ramp step")
    parser.add_argument("--no-steady", action="store_true", help="only the ramp")
    parser.add_argument("--out", type=Path, help="results file (default: none with --quick)")
    parser.add_argument("--note", default="", help="recorded with the results")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    checks = args.checks or (2000 if args.quick else 10_000)
    duration = args.duration or (20.0 if args.quick else 180.0)
    interval = args.interval or (2.0 if args.quick else 10.0)
    load_before = os.getloadavg()
    pin(0, OTHER_CPU)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    pin(server.pid, OTHER_CPU)
    steady = ramped = None
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        _SERVER_PID[port] = server.pid
        with tempfile.TemporaryDirectory() as tmp:
            if not args.no_steady:
                steady = run_agent(
                    Path(tmp),
                    port,
                    checks=checks,
                    interval=interval,
                    measure=duration,
                    scrape_every=args.scrape_every,
                )
                show("steady", steady)
            if args.ramp:
                step = args.ramp_step or (10.0 if args.quick else 30.0)
                ramped = ramp(
                    Path(tmp), port, checks=args.ramp_checks, measure=step, every=args.scrape_every
                )
                print(f"most runs/s sustained on one core: {ramped['max_sustained_runs_per_s']}")
    finally:
        server.kill()
        server.wait()
    out = args.out or (None if args.quick else RESULTS)
    report(steady, ramped, load_before=load_before, quick=args.quick, out=out, note=args.note)


def report(
    steady: dict[str, Any] | None,
    ramped: dict[str, Any] | None,
    *,
    load_before: tuple[float, float, float],
    quick: bool,
    out: Path | None,
    note: str,
) -> None:
    load_after = os.getloadavg()
    met = {}
    if steady is not None:
        p99 = steady["lateness_p99_s"]
        met = {
            "runs_per_s": steady["runs_per_s"] >= TARGET_RUNS_PER_S * (1 - RUNS_TOLERANCE),
            "lateness_p99_s": p99 is not None and p99 <= TARGET_P99_S,
            "rss_mib": steady["rss_peak_mib"] <= TARGET_RSS_MIB,
        }
    others = steady["other_cpu_percent"] if steady else 0.0
    data = {
        "benchmark": "checks",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "other_processes_cpu_percent": round(others, 1),
            # Before the run only this machine's others count; during it, their CPU share.
            "busy": load_before[0] > 1.0 or others > 10.0,
        },
        "targets": {
            "checks": 10_000,
            "interval_s": 10.0,
            "duration_s": 180.0,
            "runs_per_s": TARGET_RUNS_PER_S,
            "runs_per_s_tolerance": RUNS_TOLERANCE,
            "lateness_p99_s": TARGET_P99_S,
            "rss_mib": TARGET_RSS_MIB,
            "ramp_lateness_p99_limit_s": RAMP_P99_LIMIT_S,
        },
        "quick": quick,
        "note": note,
        "steady": steady,
        "ramp": ramped,
        "met": met,
    }
    print(f"targets met: {met}; machine: {json.dumps(data['machine'])}")
    if out is not None:  # --quick alone leaves the recorded figures of a full run alone
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2) + "\n")
        print(f"written: {out}")


if __name__ == "__main__":
    main()
