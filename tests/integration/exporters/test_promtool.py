"""``promtool check metrics`` accepts everything the agent exposes.

The agent runs with checks of several kinds (passing, failing, retried), the
embedded problem daemons and its own health, so every family is present with
samples. The only findings promtool may report are about node-problem-detector's
fixed names (``problem_counter``, ``problem_gauge``, ``cpu_runnable_task_count``),
which existing dashboards and alerts query and we keep on purpose.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.agent.test_agent_problems import eventually, metric
from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

PROMTOOL = shutil.which("promtool")
ACCEPTED = (
    "problem_counter metric name should not include type 'counter'",
    "problem_gauge metric name should not include type 'gauge'",
    'cpu_runnable_task_count non-histogram and non-summary metrics should not have "_count" suffix',
)


def test_promtool_finds_nothing_but_node_problem_detectors_fixed_names(
    start_agent: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    if PROMTOOL is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    config = tmp_path / "agent.yaml"
    config.write_text(
        "checks:\n"
        "  - {name: passes, kind: exec, argv: [/bin/true], interval: 1s, timeout: 1s}\n"
        "  - {name: fails, kind: exec, argv: [/bin/false], interval: 1s, timeout: 1s,"
        " retries: 1}\n"
        "  - {name: refused, kind: tcp, host: 127.0.0.1, port: 1, interval: 1s, timeout: 1s}\n"
    )
    agent = start_agent("--config", str(config))
    eventually(lambda: metric(agent, "kuberhealthy_check", check="default/refused") is not None)
    with urllib.request.urlopen(str(agent.urls["metrics"]), timeout=5) as answer:
        exposition = answer.read()
    assert b"healthwatch_check_duration_seconds_bucket{" in exposition
    assert b"healthwatch_check_schedule_lateness_seconds_bucket{" in exposition
    done = subprocess.run(
        [PROMTOOL, "check", "metrics"],
        input=exposition,
        capture_output=True,
        timeout=60,
        check=False,
    )
    findings = [
        line
        for line in (done.stdout + done.stderr).decode().splitlines()
        if line.strip() and line.strip() not in ACCEPTED
    ]
    assert findings == [], findings
    assert done.returncode in (0, 3)  # 3: lint findings, only the accepted ones above
