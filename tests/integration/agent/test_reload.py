"""Config reload in the real agent: SIGHUP and file changes apply a diff and lose nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.agent.test_agent_problems import (
    StartAgent,
    eventually,
    fetch,
    health,
    metric,
    write,
)
from tests.integration.conftest import START_TIMEOUT, AgentProcess, agent_command

pytestmark = pytest.mark.slow


def closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def tcp_check(name: str, port: int, **extra: object) -> str:
    fields = {"name": name, "kind": "tcp", "host": "127.0.0.1", "port": port,
              "interval": "1s", "timeout": "500ms", **extra}  # fmt: skip
    return "  - " + json.dumps(fields) + "\n"


def checks(agent: AgentProcess) -> dict[str, dict[str, Any]]:
    body = json.loads(fetch(f"{agent.urls['web']}/api/v1/checks"))
    return {check["id"]: check for check in body["checks"]}


def history(agent: AgentProcess, check_id: str) -> list[dict[str, Any]]:
    body = json.loads(fetch(f"{agent.urls['web']}/api/v1/checks/{check_id}/history?limit=1000"))
    results: list[dict[str, Any]] = body["results"]
    return results


def reloads(agent: AgentProcess, outcome: str) -> float | None:
    return metric(agent, "healthwatch_config_reloads_total", outcome=outcome)


def gauge(agent: AgentProcess, type_: str, reason: str) -> float | None:
    return metric(agent, "problem_gauge", type=type_, reason=reason)


QUIET = (
    "agent:\n  reload_poll: {poll}\n  drain: 100ms\n"
    "stats_monitor: false\ngpu: false\nlog_monitors: []\n"
)
"""Only what a test configures, and a short drain so the agent stops at once."""

MONITOR = """\
log_monitors:
  - name: app-log
    source: file
    path: {log}
    conditions: [{{type: DiskBroken, reason: DiskIsFine, message: disk is fine}}]
    rules:
      - {{type: permanent, condition: DiskBroken, reason: DiskFailed, pattern: 'disk failed.*'}}
{extra_rule}"""

PLUGIN = """\
plugin_monitors:
  - name: ntp
    interval: 1s
    timeout: 1s
    conditions: [{{type: NTPProblem, reason: NTPIsUp, message: ntp is up}}]
    rules:
      - {{type: permanent, condition: NTPProblem, reason: NTPIsDown, path: {script}}}
"""


def test_sighup_applies_the_new_set_and_keeps_streaks_conditions_and_history(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    port, log, config = closed_port(), tmp_path / "app.log", tmp_path / "agent.yaml"
    log.write_text("")
    head = "agent:\n  reload_poll: 0\n  drain: 100ms\nstats_monitor: false\ngpu: false\n"
    steady = tcp_check("steady", port, failure_threshold=100)
    config.write_text(
        head
        + MONITOR.format(log=log, extra_rule="")
        + "checks:\n"
        + steady
        + tcp_check("changing", port, failure_threshold=100)
        + tcp_check("leaving", port)
    )
    agent = start_agent("--config", str(config))
    eventually(lambda: checks(agent)["default/changing"]["consecutive_failures"] >= 2)
    write(log, "the disk failed at noon\n")
    eventually(lambda: gauge(agent, "DiskBroken", "DiskFailed") == 1)
    before = checks(agent)
    kept = len(history(agent, "default/changing"))
    script = tmp_path / "ntp.sh"
    script.write_text('#!/bin/sh\necho "ntp is down"\nexit 1\n')
    script.chmod(0o755)

    config.write_text(
        head
        + MONITOR.format(log=log, extra_rule="      - {type: temporary, reason: Boom, "
                         "pattern: 'BOOM'}\n")
        + PLUGIN.format(script=script)
        + "checks:\n"
        + tcp_check("fresh", port)
        + steady
        + tcp_check("changing", port, failure_threshold=100, timeout="900ms")
    )  # fmt: skip
    agent.process.send_signal(signal.SIGHUP)
    eventually(lambda: reloads(agent, "applied") == 1)

    now = checks(agent)
    assert list(now) == ["default/fresh", "default/steady", "default/changing"]
    for check_id in ("default/steady", "default/changing"):  # streaks go on, not reset
        assert now[check_id]["consecutive_failures"] >= before[check_id]["consecutive_failures"]
    assert now["default/changing"]["timeout_seconds"] == 0.9
    assert len(history(agent, "default/changing")) >= kept
    assert gauge(agent, "DiskBroken", "DiskFailed") == 1  # the restarted monitor took it over
    assert metric(agent, "problem_counter", reason="Boom") == 0  # ... with its new rule
    eventually(lambda: gauge(agent, "NTPProblem", "NTPIsDown") == 1)
    eventually(lambda: checks(agent)["default/fresh"]["runs"] >= 1)
    write(log, "BOOM\n")
    eventually(lambda: metric(agent, "problem_counter", reason="Boom") == 1)
    report = health(agent)
    assert report["components"]["agent"]["status"] == "healthy"
    assert report["components"]["agent"]["metadata"]["reload"].startswith("applied at ")
    assert report["components"]["daemon:ntp"]["status"] in ("healthy", "degraded")
    assert "checks:tcp" in report["components"]

    config.write_text(head + "log_monitors: []\nchecks:\n" + steady)  # the monitor goes
    agent.process.send_signal(signal.SIGHUP)
    eventually(lambda: reloads(agent, "applied") == 2)
    eventually(lambda: gauge(agent, "DiskBroken", "DiskFailed") == 0)  # retired, not stuck
    assert "daemon:app-log" not in health(agent)["components"]
    code, _, err = agent.stop()
    assert code == 0
    assert "daemons: 1 added, 1 changed; checks: 1 added, 1 changed, 1 removed, 1 unchanged" in err
    assert "daemons: 2 removed; checks: 2 removed, 1 unchanged" in err
    assert "app-log: condition DiskBroken is False (Retired)" in err


def test_an_invalid_config_is_rejected_and_the_running_one_stays(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    port, config = closed_port(), tmp_path / "agent.yaml"
    good = QUIET.format(poll="0") + "checks:\n" + tcp_check("steady", port)
    config.write_text(good)
    agent = start_agent("--config", str(config))
    eventually(lambda: reloads(agent, "rejected") == 0)

    config.write_text(good + "  - {name: broken, kind: tcp\n")
    agent.process.send_signal(signal.SIGHUP)
    eventually(lambda: reloads(agent, "rejected") == 1)
    component = health(agent)["components"]["agent"]
    assert component["status"] == "degraded"
    assert component["message"].startswith(f"reload rejected: {config}:10:1: invalid YAML")
    assert metric(agent, "healthwatch_config_last_reload_successful") == 0

    config.write_text(good + "  - {name: odd, kind: tcp, host: x, port: 1, colour: red}\n")
    agent.process.send_signal(signal.SIGHUP)
    eventually(lambda: reloads(agent, "rejected") == 2)
    assert list(checks(agent)) == ["default/steady"]  # the old config keeps running
    runs = checks(agent)["default/steady"]["runs"]
    eventually(lambda: checks(agent)["default/steady"]["runs"] > runs)

    config.write_text(good + tcp_check("added", port))
    agent.process.send_signal(signal.SIGHUP)
    eventually(lambda: reloads(agent, "applied") == 1)
    assert health(agent)["components"]["agent"]["status"] == "healthy"
    assert list(checks(agent)) == ["default/steady", "default/added"]
    code, _, err = agent.stop()
    assert code == 0
    assert f"config reload rejected: {config}:10:1: invalid YAML" in err
    assert f"config reload rejected: {config}:9: checks[1]: " in err
    assert "unknown field `colour`" in err


def test_a_changed_file_is_picked_up_without_a_signal(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    port, config = closed_port(), tmp_path / "agent.yaml"
    base = QUIET.format(poll="200ms")
    config.write_text(base + "checks:\n" + tcp_check("one", port))
    agent = start_agent("--config", str(config))
    time.sleep(0.3)
    config.write_text(base + "checks:\n" + tcp_check("one", port) + tcp_check("two", port))
    started = time.monotonic()
    eventually(lambda: "default/two" in checks(agent), timeout=5.0)
    assert time.monotonic() - started < 3.0
    assert reloads(agent, "applied") == 1
    _, _, err = agent.stop()
    assert f"config reload (file changed: {config})" in err


def launch_without_flags(state: Path, config: Path) -> AgentProcess:
    """The agent with only --config and --state-dir: its listeners come from the file."""
    process = subprocess.Popen(
        agent_command("--config", str(config), "--state-dir", str(state)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NODE_NAME": "reload-node"},
    )
    agent = AgentProcess(process, state)
    deadline = time.monotonic() + START_TIMEOUT
    while not (state / "agent.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"agent did not start: {process.communicate()[1]}")
        time.sleep(0.02)
    agent.urls = json.loads((state / "agent.json").read_text())
    return agent


def test_listener_changes_wait_for_a_restart_and_shutdown_ignores_reloads(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    listeners = (
        "agent:\n  listen: 127.0.0.1:0\n  health_listen: 127.0.0.1:0\n"
        "  metrics_listen: 127.0.0.1:0\n  reload_poll: 0\n  drain: 500ms\n"
    )
    rest = "stats_monitor: false\ngpu: false\nlog_monitors: []\nchecks: []\n"
    config.write_text(listeners + rest)
    agent = launch_without_flags(tmp_path / "state", config)
    try:
        config.write_text(listeners.replace("metrics_listen: 127.0.0.1:0", "metrics_listen: 'off'")
                          + "  node_name: other\n" + rest)  # fmt: skip
        agent.process.send_signal(signal.SIGHUP)
        eventually(lambda: reloads(agent, "applied") == 1)  # still served where it was
        assert health(agent)["components"]["agent"]["metadata"]["reload"].endswith(
            "needs a restart: agent.metrics_listen, agent.node_name"
        )
        agent.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        agent.process.send_signal(signal.SIGHUP)  # while draining
        code, _, err = agent.stop(timeout=15)
    finally:
        if agent.process.poll() is None:
            agent.process.kill()
            agent.process.communicate()
    assert code == 0
    assert (
        "config reload: changes to agent.metrics_listen, agent.node_name were not applied; "
        "they need a restart" in err
    )
    assert "config reload (SIGHUP) ignored: shutting down" in err
