"""The other commands against a real agent and real files: probe, status, validate, version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from healthwatch import __version__
from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]


def healthwatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthwatch", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )


def test_version() -> None:
    result = healthwatch("version")
    assert (result.returncode, result.stdout.strip()) == (0, __version__)
    assert __version__ in healthwatch("--version").stdout


def test_probe_exit_status(start_agent: StartAgent) -> None:
    agent = start_agent("--drain", "3s")
    base = str(agent.urls["health"])
    for kind in ("live", "ready", "startup"):
        result = healthwatch("probe", base, "--kind", kind)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "HTTP 200" in result.stdout
    assert healthwatch("probe", f"{base}/livez", "-q").returncode == 0
    agent.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 2
    code = 0
    while time.monotonic() < deadline and code == 0:
        code = healthwatch("probe", base, "--kind", "ready", "-q").returncode
    assert code == 1
    assert healthwatch("probe", base, "--kind", "live", "-q").returncode == 0


def test_probe_of_nothing_fails_and_bad_urls_are_errors() -> None:
    result = healthwatch("probe", "http://127.0.0.1:1", "--timeout", "2")
    assert result.returncode == 1 and "refused" in result.stdout.lower()
    bad = healthwatch("probe", "ftp://example")
    assert bad.returncode == 2 and "http(s)" in bad.stderr
    assert healthwatch("probe", "http://127.0.0.1:1", "--kind", "sideways").returncode == 2


def test_status_table_and_json(start_agent: StartAgent) -> None:
    agent = start_agent()
    table = healthwatch("status", "--url", str(agent.urls["web"]))
    assert table.returncode == 0
    assert "status: ok" in table.stdout and "metrics-listener" in table.stdout
    raw = healthwatch("status", "--url", str(agent.urls["web"]), "--json")
    assert raw.returncode == 0 and json.loads(raw.stdout)["status"] == "ok"


def test_status_finds_the_local_agent_through_its_state_dir(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    agent = start_agent()
    xdg = agent.state_dir.parent / "xdg"
    (xdg / "healthwatch").mkdir(parents=True)
    (xdg / "healthwatch" / "agent.json").write_text((agent.state_dir / "agent.json").read_text())
    result = healthwatch("status", env={**os.environ, "XDG_STATE_HOME": str(xdg)})
    assert result.returncode == 0 and "status: ok" in result.stdout


def test_status_without_agent_is_a_clear_error() -> None:
    result = healthwatch("status", "--url", "http://127.0.0.1:1", "--timeout", "2")
    assert result.returncode == 2 and "no agent answered at http://127.0.0.1:1" in result.stderr


def test_validate_reports_every_error(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("agent:\n  drain: 1s\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent:\n  listen: nowhere\n")
    worse = tmp_path / "worse.yaml"
    worse.write_text("health: {details: [1}\n")
    result = healthwatch("validate", str(good), str(bad), str(worse), str(tmp_path / "none.yaml"))
    assert result.returncode == 2
    assert f"{good}: ok" in result.stdout
    assert f"{bad}:2: agent.listen" in result.stderr
    assert f"{worse}:1" in result.stderr and "invalid YAML" in result.stderr
    assert "none.yaml: no such file" in result.stderr
    assert healthwatch("validate", str(good)).returncode == 0


def test_validate_understands_log_monitors_and_npd_files(tmp_path: Path) -> None:
    npd = tmp_path / "kernel-monitor.json"
    npd.write_text(
        json.dumps(
            {
                "plugin": "kmsg",
                "logPath": "/dev/kmsg",
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
                        "type": "permanent",
                        "condition": "KernelDeadlock",
                        "reason": "DockerHung",
                        "pattern": "task docker:\\w+ blocked for more than \\w+ seconds\\.",
                    }
                ],
            }
        )
    )
    bad_npd = tmp_path / "bad.json"
    bad_npd.write_text(
        '{"plugin": "kmsg", "rules": [{"type": "temporary", "reason": "R", "pattern": "a(b"}]}'
    )
    yaml_ok = tmp_path / "agent.yaml"
    yaml_ok.write_text("log_monitors:\n  - {name: k, source: kmsg, packs: [kernel, nvidia-xid]}\n")
    yaml_bad = tmp_path / "bad.yaml"
    yaml_bad.write_text("log_monitors:\n  - {name: k, source: kmsg, packs: [no-such-pack]}\n")
    result = healthwatch("validate", str(npd), str(bad_npd), str(yaml_ok), str(yaml_bad))
    assert result.returncode == 2
    assert f"{npd}: ok" in result.stdout and f"{yaml_ok}: ok" in result.stdout
    assert "rules[0].pattern" in result.stderr and str(bad_npd) in result.stderr
    assert "log_monitors[0].packs[0]" in result.stderr and "no-such-pack" in result.stderr
