"""Every problem daemon kind runs inside the real agent: embedded, from our YAML, from NPD files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from healthwatch.agent_problems import configured_daemons
from healthwatch.config.agent import load_config
from tests.integration.agent.test_agent_problems import (
    StartAgent,
    eventually,
    fetch,
    health,
    metric,
)

pytestmark = pytest.mark.slow


def _plugin(tmp_path: Path, name: str, body: str) -> Path:
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def test_the_embedded_default_runs_the_stats_monitor_and_says_why_gpu_is_off(
    start_agent: StartAgent,
) -> None:
    agent = start_agent()
    report = health(agent)
    assert report["components"]["daemon:system-stats-monitor"]["status"] == "healthy"
    decisions = report["components"]["agent"]["metadata"]
    assert "on by default" in decisions["stats"]
    assert decisions["gpu"].startswith("off: ")  # no NVML on a machine without a GPU driver
    eventually(lambda: (metric(agent, "cpu_load_1m") or -1.0) >= 0.0)
    text = fetch(str(agent.urls["metrics"]))
    assert "# TYPE cpu_usage_time untyped" in text  # node-problem-detector's exact name
    assert "problem_gauge{node=" in text and 'type="MemoryPressure"' in text


def test_yaml_plugin_and_service_monitors_report_through_the_agent(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    down = _plugin(tmp_path, "check_ntp.sh", 'echo "ntp is down"; exit 1')
    config = tmp_path / "agent.yaml"
    config.write_text(
        "log_monitors: []\n"
        "stats_monitor: false\n"
        "gpu: false\n"
        "plugin_monitors:\n"
        "  - name: ntp\n"
        "    interval: 1s\n"
        "    timeout: 1s\n"
        "    conditions: [{type: NTPProblem, reason: NTPIsUp, message: ntp is up}]\n"
        "    rules:\n"
        "      - {type: permanent, condition: NTPProblem, reason: NTPIsDown,\n"
        f"         path: {down}}}\n"
    )
    agent = start_agent("--config", str(config))
    eventually(lambda: metric(agent, "problem_gauge", type="NTPProblem", reason="NTPIsDown") == 1)
    report = health(agent)
    assert report["components"]["daemon:ntp"]["status"] in ("healthy", "degraded")
    assert "daemon:system-stats-monitor" not in report["components"]
    assert "stats" not in report["components"]["agent"]["metadata"]


def test_node_problem_detector_flags_take_plugin_and_stats_files_unchanged(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    ok = _plugin(tmp_path, "ok.sh", "echo fine; exit 0")
    plugins = tmp_path / "custom-plugin-monitor.json"
    plugins.write_text(
        json.dumps(
            {
                "plugin": "custom",
                "pluginConfig": {"invoke_interval": "1s", "timeout": "1s"},
                "source": "custom-plugin-monitor",
                "conditions": [
                    {"type": "CustomProblem", "reason": "CustomIsOK", "message": "all fine"}
                ],
                "rules": [
                    {
                        "type": "permanent",
                        "condition": "CustomProblem",
                        "reason": "CustomIsBroken",
                        "path": str(ok),
                    }
                ],
            }
        )
    )
    stats = tmp_path / "system-stats-monitor.json"
    stats.write_text(
        json.dumps(
            {
                "cpu": {"metricsConfigs": {"cpu/load_1m": {"displayName": "cpu/load_1m"}}},
                "invokeInterval": "5s",  # NPD refuses less than its 5s lsblkTimeout
            }
        )
    )
    agent = start_agent(
        "--config.custom-plugin-monitor",
        str(plugins),
        "--config.system-stats-monitor",
        str(stats),
    )
    components = health(agent)["components"]
    assert "daemon:custom-plugin-monitor" in components
    stats_daemons = [name for name in components if "stats" in name]
    assert stats_daemons == ["daemon:system-stats-monitor"]
    eventually(lambda: metric(agent, "cpu_load_1m") is not None)
    text = fetch(str(agent.urls["metrics"]))
    assert "memory_bytes_used" not in text  # only what the NPD file lists is exported
    assert metric(agent, "problem_gauge", type="CustomProblem", reason="CustomIsBroken") == 0


def _validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_tells_npd_files_apart_and_names_daemon_errors(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins.json"
    plugins.write_text(
        json.dumps(
            {
                "plugin": "custom",
                "pluginConfig": {"invoke_interval": "10s", "timeout": "5s"},
                "source": "p",
                "conditions": [],
                "rules": [{"type": "temporary", "reason": "R", "path": "/bin/true"}],
            }
        )
    )
    stats = tmp_path / "stats.json"
    stats.write_text(json.dumps({"memory": {"metricsConfigs": {}}, "invokeInterval": "60s"}))
    done = _validate(plugins, stats)
    assert done.returncode == 0, done.stderr
    assert f"{plugins}: ok (custom plugin monitor)" in done.stdout
    assert f"{stats}: ok (system stats monitor)" in done.stdout

    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("service_monitors:\n  - component: unit\n    unit: 'kubelet; rm -rf /'\n")
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        "log_monitors:\n  - {name: twin, source: kmsg}\n"
        "plugin_monitors:\n  - name: twin\n"
        "    rules: [{type: temporary, reason: R, path: /bin/true}]\n"
    )
    done = _validate(hostile, clash)
    assert done.returncode == 2
    assert f"{hostile}:3: service_monitors[0].unit" in done.stderr
    assert "kubelet; rm -rf /" in done.stderr
    assert "two problem daemons (logmonitor and pluginmonitor) are named 'twin'" in done.stderr


def test_npd_files_sharing_a_source_become_monitors_named_after_their_files(
    tmp_path: Path,
) -> None:
    files = []
    for component in ("kubelet", "containerd"):
        path = tmp_path / f"health-checker-{component}.json"
        path.write_text(
            json.dumps(
                {
                    "plugin": "custom",
                    "pluginConfig": {"invoke_interval": "10s", "timeout": "3m"},
                    "source": "health-checker",
                    "conditions": [],
                    "rules": [{"type": "temporary", "reason": "R", "path": "/bin/true"}],
                }
            )
        )
        files.append(str(path))
    config = load_config(None, custom_plugin_monitors=tuple(files))
    names = [plan.name for plan in configured_daemons(config) if plan.kind == "pluginmonitor"]
    assert names == ["health-checker-kubelet", "health-checker-containerd"]
