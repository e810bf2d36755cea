"""Problem detection end to end: real files and the real /dev/kmsg into the agent's outputs."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import AgentProcess, run_agent_once

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def metric(agent: AgentProcess, name: str, **labels: str) -> float | None:
    """The value of one sample on the agent's /metrics, or None when absent."""
    text = fetch(str(agent.urls["metrics"]))
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def health(agent: AgentProcess) -> dict[str, Any]:
    try:
        body = fetch(f"{agent.urls['health']}/health")
    except urllib.error.HTTPError as error:
        body = error.read().decode()
    data: dict[str, Any] = json.loads(body)
    return data


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.05)


RULES = """
log_monitors:
  - name: app-log
    source: file
    path: {path}
    conditions:
      - {{type: DiskBroken, reason: DiskIsFine, message: disk is fine}}
    rules:
      - {{type: temporary, reason: Boom, pattern: 'BOOM \\d+'}}
      - {{type: permanent, condition: DiskBroken, reason: DiskFailed, pattern: 'disk failed.*'}}
      - {{type: recovery, condition: DiskBroken, reason: DiskRepaired, pattern: 'disk ok again'}}
"""


def write(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def test_a_followed_file_through_rotations_reaches_metrics_and_health(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text("BOOM 0 happened before the agent started\n")
    config = tmp_path / "agent.yaml"
    config.write_text(RULES.format(path=log))
    agent = start_agent("--config", str(config))

    def booms() -> float | None:
        return metric(agent, "problem_counter", reason="Boom")

    eventually(lambda: booms() == 0)  # declared at zero; the old line is before the start
    write(log, "BOOM 1\n")
    eventually(lambda: booms() == 1)
    log.rename(tmp_path / "app.log.1")  # rotation by rename, then the old file gets more
    write(tmp_path / "app.log.1", "late in the old file: BOOM 2\n")
    write(log, "in the new file: BOOM 3\n")
    eventually(lambda: booms() == 3)
    (tmp_path / "app.log.1").unlink()
    log.write_text("")  # copy-truncate
    write(log, "BOOM 4\n")
    eventually(lambda: booms() == 4)
    log.unlink()  # deletion, then re-creation
    time.sleep(0.6)
    write(log, "BOOM 5\n")
    eventually(lambda: booms() == 5)
    write(log, "BO")  # a line written in two parts
    time.sleep(0.6)
    write(log, "OM 6\n")
    eventually(lambda: booms() == 6)
    write(log, "the disk failed at noon\n")
    eventually(lambda: metric(agent, "problem_gauge", type="DiskBroken", reason="DiskFailed") == 1)
    report = health(agent)
    assert report["status"] == "ok"
    component = report["components"]["daemon:app-log"]
    assert component["status"] == "healthy"
    write(log, "disk ok again\n")
    eventually(lambda: metric(agent, "problem_gauge", type="DiskBroken", reason="DiskFailed") == 0)
    time.sleep(1.2)  # nothing counted twice after things settle
    assert booms() == 6
    assert metric(agent, "problem_counter", reason="DiskFailed") == 1
    lines = metric(agent, "healthwatch_logmonitor_lines_total", monitor="app-log")
    assert lines == 8  # every line written after the start, once
    assert agent.stop()[0] == 0


def test_conditions_survive_a_restart(start_agent: StartAgent, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")
    config = tmp_path / "agent.yaml"
    config.write_text(RULES.format(path=log))
    state = tmp_path / "state"
    first = start_agent("--config", str(config), state_dir=state)
    write(log, "disk failed\n")
    eventually(lambda: metric(first, "problem_gauge", type="DiskBroken", reason="DiskFailed") == 1)
    assert first.stop()[0] == 0
    second = start_agent("--config", str(config), state_dir=state)
    eventually(lambda: metric(second, "problem_gauge", type="DiskBroken", reason="DiskFailed") == 1)


def _kmsg_writable() -> str | None:
    try:
        fd = os.open("/dev/kmsg", os.O_WRONLY)
    except OSError as error:
        return f"/dev/kmsg is not writable here ({error.strerror})"
    os.close(fd)
    if not os.access("/dev/kmsg", os.R_OK):
        return "/dev/kmsg is not readable here"
    return None


def test_records_written_to_the_real_kmsg_are_counted(start_agent: StartAgent) -> None:
    reason = _kmsg_writable()
    if reason is not None:
        pytest.skip(reason)
    agent = start_agent()  # the embedded default: the kernel pack on /dev/kmsg
    report = health(agent)
    assert "readable" in report["components"]["agent"]["metadata"]["kernel_log"]
    eventually(lambda: metric(agent, "problem_counter", reason="TaskHung") is not None)
    before = metric(agent, "problem_counter", reason="TaskHung") or 0.0
    token = uuid.uuid4().hex[:12]
    fd = os.open("/dev/kmsg", os.O_WRONLY)
    try:
        for n in range(3):
            os.write(
                fd, f"<3>INFO: task hw{token}:{n} blocked for more than 120 seconds.\n".encode()
            )
    finally:
        os.close(fd)
    eventually(lambda: metric(agent, "problem_counter", reason="TaskHung") == before + 3)
    time.sleep(1.0)
    assert metric(agent, "problem_counter", reason="TaskHung") == before + 3
    assert health(agent)["components"]["daemon:kernel-monitor"]["status"] == "healthy"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{name: bad, source: file, path: /tmp/x.log, rules: [{type: temporary, reason: R, "
            "pattern: 'a(b'}]}",
            r"log_monitors\[0\]\.rules\[0\]\.pattern",
        ),
        ("{name: bad, source: carrier-pigeon}", r"log_monitors\[0\]\.source"),
        ("{name: bad, source: file}", r"log_monitors\[0\]\.path"),
        (
            "{name: bad, source: file, path: /x, timestamp: {regex: '([', format: 'Jan _2'}}",
            r"timestamp\.regex",
        ),
    ],
)
def test_bad_monitor_config_is_a_clear_error(tmp_path: Path, entry: str, expected: str) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(f"log_monitors:\n  - {entry}\n")
    result = run_agent_once(
        "--config",
        str(config),
        "--state-dir",
        str(tmp_path / "s"),
        "--health-listen",
        "127.0.0.1:0",
        "--listen",
        "off",
        "--metrics-listen",
        "off",
    )
    assert result.returncode == 2, result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert str(config) in result.stderr


def test_a_monitor_that_cannot_start_degrades_and_none_starting_is_fatal(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    good = tmp_path / "good.log"
    good.write_text("")
    config = tmp_path / "agent.yaml"
    config.write_text(
        "log_monitors:\n"
        "  - {name: broken, source: kmsg, path: /nonexistent/kmsg}\n"
        f"  - {{name: fine, source: file, path: {good}}}\n"
    )
    agent = start_agent("--config", str(config))
    report = health(agent)
    assert report["status"] == "degraded"
    assert report["components"]["daemon:broken"]["status"] == "degraded"
    assert "/nonexistent/kmsg" in report["components"]["daemon:broken"]["message"]
    assert report["components"]["daemon:fine"]["status"] == "healthy"
    only_broken = tmp_path / "broken.yaml"
    only_broken.write_text(
        "log_monitors:\n  - {name: broken, source: kmsg, path: /nonexistent/kmsg}\n"
        "stats_monitor: false\ngpu: false\n"
    )
    dead = start_agent("--config", str(only_broken), wait=False)
    _, err = dead.process.communicate(timeout=30)
    assert dead.process.returncode == 2
    assert "no problem daemon could start" in err and "/nonexistent/kmsg" in err


def test_npd_files_through_the_npd_flag(start_agent: StartAgent, tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text("")
    npd = tmp_path / "kernel-monitor-filelog.json"
    npd.write_text(
        json.dumps(
            {
                "plugin": "filelog",
                "pluginConfig": {
                    "timestamp": "^.{15}",
                    "message": "kernel: \\[.*\\] (.*)",
                    "timestampFormat": "Jan _2 15:04:05",
                },
                "logPath": str(log),
                "lookback": "5m",
                "bufferSize": 10,
                "source": "kernel-monitor",
                "conditions": [
                    {
                        "type": "KernelDeadlock",
                        "reason": "KernelHasNoDeadlock",
                        "message": "kernel has no deadlock",
                    }
                ],
                "rules": [
                    {
                        "type": "temporary",
                        "reason": "OOMKilling",
                        "pattern": "Killed process \\d+ (.+) total-vm:\\d+kB, anon-rss:\\d+kB, "
                        "file-rss:\\d+kB.*",
                    },
                    {
                        "type": "permanent",
                        "condition": "KernelDeadlock",
                        "reason": "DockerHung",
                        "pattern": "task docker:\\w+ blocked for more than \\w+ seconds\\.",
                    },
                ],
            }
        )
    )
    agent = start_agent(f"--config.system-log-monitor={npd}")
    stamp = time.strftime("%b %e %H:%M:%S")
    write(
        log,
        f"{stamp} node kernel: [  1.000000] Killed process 42 (java) total-vm:1kB, "
        "anon-rss:1kB, file-rss:0kB\n"
        f"{stamp} node kernel: [  2.000000] task docker:123 blocked for more than "
        "120 seconds.\n",
    )
    eventually(lambda: metric(agent, "problem_counter", reason="OOMKilling") == 1)
    eventually(
        lambda: metric(agent, "problem_gauge", type="KernelDeadlock", reason="DockerHung") == 1
    )
    assert health(agent)["components"]["daemon:kernel-monitor"]["status"] == "healthy"
