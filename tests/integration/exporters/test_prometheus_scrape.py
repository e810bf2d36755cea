"""A real Prometheus server scrapes the real agent: valid exposition, values arrive."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]
PROMETHEUS = shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    if PROMETHEUS is None:
        pytest.skip("the prometheus server is not installed (Debian package prometheus)")
    processes: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> str:
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: healthwatch\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path}/tsdb",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return base
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("prometheus did not become ready")
            time.sleep(0.2)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, Any] = json.loads(response.read())
    assert data["status"] == "success"
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def eventually_value(base: str, expr: str, expected: float, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        seen = query(base, expr)
        if seen and float(seen[0]["value"][1]) == expected:
            return
        time.sleep(0.5)
    raise AssertionError(f"{expr} never became {expected}; last seen {seen}")


def test_prometheus_scrapes_problem_and_health_metrics(
    start_agent: StartAgent, prometheus: Callable[[str], str], tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    config = tmp_path / "agent.yaml"
    config.write_text(
        "log_monitors:\n"
        f"  - name: app-log\n    source: file\n    path: {log}\n"
        "    rules: [{type: temporary, reason: Boom, pattern: 'BOOM \\d+'}]\n"
    )
    agent = start_agent("--config", str(config), "--node-name", "node-7")
    target = str(agent.urls["metrics"]).removeprefix("http://").removesuffix("/metrics")
    base = prometheus(target)
    eventually_value(base, 'up{job="healthwatch"}', 1)  # the exposition parsed cleanly
    eventually_value(base, 'problem_counter{reason="Boom",node="node-7"}', 0)
    with log.open("a") as handle:
        handle.write("BOOM 1\nBOOM 2\n")
    eventually_value(base, 'problem_counter{reason="Boom",node="node-7"}', 2)
    eventually_value(base, 'healthwatch_probe_passed{probe="readiness"}', 1)
    eventually_value(base, 'healthwatch_logmonitor_lines_total{monitor="app-log"}', 2)
    samples = query(base, "scrape_samples_scraped")
    assert samples and float(samples[0]["value"][1]) > 20
