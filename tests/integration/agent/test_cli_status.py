"""``healthwatch status`` against a running agent: JSON for scripts, plain lines otherwise."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from healthwatch.agent import RUNTIME_FILE
from healthwatch.cli_status import RUNTIME_FILE as STATUS_RUNTIME_FILE
from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthwatch", "status", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _checks_have_run(url: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        report: dict[str, Any] = json.loads(status("--url", url, "--json").stdout)
        if all(check["latest"] is not None for check in report["checks"] or []):
            return report
        assert time.monotonic() < deadline, report["checks"]
        time.sleep(0.2)


def test_the_runtime_file_name_is_the_agents() -> None:
    assert STATUS_RUNTIME_FILE == RUNTIME_FILE


def test_status_json_is_the_report_plus_dashboard_and_checks(start_agent: StartAgent) -> None:
    agent = start_agent()
    web = str(agent.urls["web"])
    result = status("--url", web, "--json")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["status"] == "ok" and report["lifecycle"] == "ready"
    assert {"probes", "components", "service", "uptime_seconds"} <= report.keys()
    assert report["dashboard"] == f"{web}/"
    (self_check,) = report["checks"]
    assert self_check["id"] == "healthwatch/agent-livez"
    assert self_check["latest"] is None or self_check["latest"]["ok"] is True  # runs within 30s
    decisions = report["components"]["agent"]["metadata"]
    assert decisions["config"] == "embedded default" and "kernel_log" in decisions


def test_plain_status_names_decisions_components_and_checks(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(
        "checks:\n"
        "  - {name: nothing, kind: tcp, host: 127.0.0.1, port: 1, interval: 1s, timeout: 1s}\n"
        "stats_monitor: false\n"
    )
    agent = start_agent("--config", str(config))
    web = str(agent.urls["web"])
    _checks_have_run(web)
    result = status("--url", web)
    assert result.returncode == 0  # a failing check is news about its target, not the agent
    assert "\x1b" not in result.stdout  # not a terminal: no colour, no drawing
    lines = result.stdout.splitlines()
    assert lines[0] == "status: ok  lifecycle: ready"
    assert lines[1].startswith("agent: healthwatch ") and " on " in lines[1]
    assert lines[2] == f"dashboard: {web}/"
    assert lines[3] == "decisions:" and lines[4] == f"  config: {config}"
    assert "components:" in lines
    assert any(line.split()[:2] == ["healthy", "checks:scheduler"] for line in lines)
    assert lines[-2] == "checks: 1, 1 failing"
    assert re.fullmatch(
        r"  failing +default/nothing +tcp +[\d.]+ m?s  "
        r"(alert firing: )?connection refused by 127\.0\.0\.1:1.*",
        lines[-1],
    ), lines[-1]


def test_status_finds_the_agent_of_this_home(start_agent: StartAgent, tmp_path: Path) -> None:
    home = tmp_path / "home"
    agent = start_agent(state_dir=home / ".local" / "state" / "healthwatch")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "healthwatch", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["dashboard"] == f"{agent.urls['web']}/"


def test_no_agent_and_bad_urls_are_clear_errors() -> None:
    nobody = status("--url", "http://127.0.0.1:1", "--timeout", "2")
    assert (nobody.returncode, nobody.stdout) == (2, "")
    assert nobody.stderr.startswith("error: no agent answered at http://127.0.0.1:1: ")
    bad = status("--url", "ftp://x")
    assert (bad.returncode, bad.stderr) == (
        2,
        "error: --url must be http(s)://HOST:PORT, got 'ftp://x'\n",
    )
