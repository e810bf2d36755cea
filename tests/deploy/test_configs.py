"""The config files the manifests ship are valid, and the agent runs with them as documented.

Each ConfigMap's file is written out and checked by ``healthwatch validate``; every
flag the workloads pass must be one ``healthwatch run`` has (no invented flags); and
the real agent is started with each file (on loopback ports of the OS's choosing),
to show that it becomes ready and that the settings take effect: the node name comes
from ``NODE_NAME``, the stats monitor's conditions avoid the kubelet's names, and the
controller's config runs its check and no problem daemon.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.deploy.manifests import container, find, rendered
from tests.integration.conftest import kill_agent, launch_agent

pytestmark = pytest.mark.slow

FILES = {
    "agent.yaml": ("healthwatch-agent", "DaemonSet"),
    "controller.yaml": ("healthwatch-controller", "Deployment"),
}


def _write(tmp_path: Path, key: str) -> Path:
    name, _ = FILES[key]
    config_map = find(rendered("overlays/with-controller"), "ConfigMap", name)
    path = tmp_path / key
    path.write_text(config_map["data"][key])
    return path


def test_shipped_configs_pass_healthwatch_validate(tmp_path: Path) -> None:
    paths = [str(_write(tmp_path, key)) for key in FILES]
    done = subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def test_validate_refuses_a_broken_copy(tmp_path: Path) -> None:
    path = _write(tmp_path, "agent.yaml")
    path.write_text(path.read_text().replace("collectors:", "colectors:"))
    done = subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "colectors" in done.stdout + done.stderr


def test_workloads_pass_only_flags_healthwatch_run_has() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "healthwatch", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0
    objects = rendered("overlays/with-controller")
    for _, (name, kind) in FILES.items():
        args = container(find(objects, kind, name))["args"]
        assert args[0] == "run"
        for flag in args[1:]:
            assert flag.startswith("--") and "=" in flag, flag
            assert f"{flag.split('=')[0]} " in done.stdout, flag
        config = next(a for a in args if a.startswith("--config="))
        mounted = {m["mountPath"] for m in container(find(objects, kind, name))["volumeMounts"]}
        assert str(Path(config.split("=", 1)[1]).parent) in mounted


def _metrics(urls: dict[str, str | None]) -> str:
    with urllib.request.urlopen(str(urls["metrics"]), timeout=5) as answer:
        text: str = answer.read().decode()
    return text


def _eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _ready(urls: dict[str, str | None]) -> bool:
    try:
        with urllib.request.urlopen(f"{urls['health']}/readyz", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _fake_host(root: Path) -> Path:
    """A host root like the DaemonSet's /host: the real /proc and /sys, a syslog file."""
    (root / "var" / "log").mkdir(parents=True)
    (root / "var" / "log" / "kern.log").write_text("")
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text('NAME="Test"\nVERSION_ID="1"\n')
    (root / "proc").symlink_to("/proc")
    (root / "sys").symlink_to("/sys")
    return root


def test_the_agent_runs_with_the_daemonset_config(tmp_path: Path) -> None:
    config = _write(tmp_path, "agent.yaml")
    host = _fake_host(tmp_path / "host")
    agent = launch_agent(
        tmp_path / "state",
        f"--config={config}",
        f"--host-root={host}",
        env={"NODE_NAME": "node-a"},
    )
    try:
        _eventually(lambda: _ready(agent.urls))
        _eventually(lambda: 'type="NodeMemoryLow"' in _metrics(agent.urls))
        text = _metrics(agent.urls)
        assert 'healthwatch_build_info{node="node-a"' in text
        assert 'type="MemoryPressure"' not in text and 'type="PIDPressure"' not in text
        assert 'type="NodePIDsLow"' in text
        assert "disk_bytes_used" not in text and "net_rx_bytes" not in text
    finally:
        kill_agent(agent)


def test_the_controller_config_runs_its_check_and_no_problem_daemon(tmp_path: Path) -> None:
    config = _write(tmp_path, "controller.yaml")
    agent = launch_agent(tmp_path / "state", f"--config={config}")
    try:
        _eventually(lambda: _ready(agent.urls))
        with urllib.request.urlopen(f"{agent.urls['health']}/health", timeout=5) as answer:
            report = json.loads(answer.read())
        names = json.dumps(report)
        assert "daemon:" not in names
        _eventually(lambda: 'check="healthwatch/apiserver"' in _metrics(agent.urls))
    finally:
        kill_agent(agent)
