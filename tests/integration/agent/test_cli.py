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


def test_replay_prints_matches_with_line_numbers_and_json(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "log_monitors:\n  - name: app\n    source: file\n    path: /unused\n"
        "    conditions: [{type: DiskBroken, reason: DiskIsFine, message: fine}]\n"
        "    rules:\n      - {type: temporary, reason: Boom, pattern: 'BOOM \\d+'}\n"
        "      - {type: permanent, condition: DiskBroken, reason: DiskFailed, "
        "pattern: 'disk failed.*'}\n"
    )
    log = tmp_path / "app.log"
    log.write_text("quiet\nBOOM 1\nthe disk failed today\nBOOM 2\nquiet\n")
    result = healthwatch("replay", "--config", str(rules), str(log))
    assert result.returncode == 0
    assert f"{log}:2: app: temporary Boom: BOOM 1" in result.stdout
    assert f"{log}:3: app: permanent DiskFailed" in result.stdout
    assert "5 lines, 3 matches" in result.stderr
    data = json.loads(healthwatch("replay", "--config", str(rules), str(log), "--json").stdout)
    assert data["lines"] == 5
    assert data["problems"] == {"Boom": 2, "DiskFailed": 1}
    assert data["conditions"]["DiskBroken"] == {"status": "True", "reason": "DiskFailed"}
    assert [m["line"] for m in data["matches"]] == [2, 3, 4]


def test_replay_reads_stdin_and_exits_1_when_nothing_matches(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("log_monitors:\n  - {name: k, source: kmsg, packs: [kernel]}\n")
    quiet = subprocess.run(
        [sys.executable, "-m", "healthwatch", "replay", "--config", str(rules), "-"],
        input="nothing to see\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert quiet.returncode == 1 and "1 lines, 0 matches" in quiet.stderr
    oom = subprocess.run(
        [sys.executable, "-m", "healthwatch", "replay", "--config", str(rules), "-", "--json"],
        input="Out of memory: Killed process 123 (java) total-vm:10kB, anon-rss:1kB, "
        "file-rss:0kB, shmem-rss:0kB\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert oom.returncode == 0
    assert json.loads(oom.stdout)["problems"]["OOMKilling"] == 1


def test_replay_errors_name_the_file(tmp_path: Path) -> None:
    missing = healthwatch("replay", "--config", str(tmp_path / "none.json"), "-")
    assert missing.returncode == 2 and "none.json: no such file" in missing.stderr
    rules = tmp_path / "rules.yaml"
    rules.write_text("log_monitors:\n  - {name: k, source: kmsg, packs: [kernel]}\n")
    unreadable = healthwatch("replay", "--config", str(rules), str(tmp_path / "no.log"))
    assert unreadable.returncode == 2 and "no.log: cannot read" in unreadable.stderr
