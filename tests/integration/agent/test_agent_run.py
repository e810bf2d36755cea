"""`healthwatch run` as a user runs it: listeners, metrics on/off, drain on SIGTERM, bad ports."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import AgentProcess, run_agent_once

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def health(agent: AgentProcess) -> dict[str, Any]:
    code, body = get(f"{agent.urls['health']}/health")
    data: dict[str, Any] = json.loads(body)
    data["_code"] = code
    return data


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def test_agent_serves_health_metrics_and_api(start_agent: StartAgent) -> None:
    agent = start_agent()
    assert get(f"{agent.urls['health']}/livez") == (200, b"ok\n")
    assert get(f"{agent.urls['health']}/readyz")[0] == 200
    report = health(agent)
    assert report["_code"] == 200 and report["status"] == "ok"
    assert {"agent", "event-loop", "threads", "metrics-listener", "web-listener"} <= set(
        report["components"]
    )
    assert report["probes"]["liveness"]["members"] == ["event-loop", "threads"]
    code, metrics = get(str(agent.urls["metrics"]))
    assert code == 200
    assert b'healthwatch_probe_passed{node="' in metrics
    assert b'probe="readiness"} 1.0' in metrics
    assert b"healthwatch_build_info" in metrics and b"process_resident_memory_bytes" in metrics
    code, api = get(f"{agent.urls['web']}/api/v1/health")
    assert code == 200 and json.loads(api)["status"] == "ok"
    code, spec = get(f"{agent.urls['web']}/api/openapi.json")
    assert code == 200 and "/api/v1/health" in json.loads(spec)["paths"]
    returncode, _, _ = agent.stop()
    assert returncode == 0
    assert not (agent.state_dir / "agent.json").exists()


def test_sigterm_drains_then_exits_zero_within_5s(start_agent: StartAgent) -> None:
    agent = start_agent("--drain", "1s")
    base = agent.urls["health"]
    agent.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    deadline = started + 1.0
    ready = live = None
    while time.monotonic() < deadline:  # during the drain: not ready, still alive
        ready, live = get(f"{base}/readyz")[0], get(f"{base}/livez")[0]
        if ready == 503:
            break
        time.sleep(0.02)
    assert (ready, live) == (503, 200)
    assert health(agent)["status"] == "draining"
    returncode, out, _ = agent.stop(timeout=10)
    assert returncode == 0
    assert time.monotonic() - started < 5.0
    assert "health" in out  # the start-up line named the listeners


def test_second_signal_cuts_the_drain_short(start_agent: StartAgent) -> None:
    agent = start_agent("--drain", "30s")
    agent.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    started = time.monotonic()
    agent.process.send_signal(signal.SIGINT)
    returncode, _, _ = agent.stop(timeout=10)
    assert returncode == 0 and time.monotonic() - started < 5.0


def test_metrics_off_leaves_health_serving(start_agent: StartAgent) -> None:
    agent = start_agent("--metrics-listen", "off")
    assert agent.urls["metrics"] is None
    report = health(agent)
    assert report["status"] == "ok" and "metrics-listener" not in report["components"]
    assert get(f"{agent.urls['health']}/readyz")[0] == 200


def test_metrics_port_in_use_degrades_but_serves(start_agent: StartAgent, busy_port: int) -> None:
    agent = start_agent("--metrics-listen", f"127.0.0.1:{busy_port}")
    report = health(agent)
    assert report["_code"] == 200 and report["status"] == "degraded"
    component = report["components"]["metrics-listener"]
    assert component["status"] == "unhealthy"
    assert f"127.0.0.1:{busy_port}" in component["message"]
    assert get(f"{agent.urls['health']}/readyz")[0] == 200


def test_health_port_in_use_is_a_clear_error(tmp_path: Path, busy_port: int) -> None:
    result = run_agent_once(
        "--state-dir",
        str(tmp_path),
        "--health-listen",
        f"127.0.0.1:{busy_port}",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "off",
    )
    assert result.returncode == 2
    assert f"health listener cannot bind 127.0.0.1:{busy_port}" in result.stderr
    assert "address already in use" in result.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("agent:\n  drain: soon\n")
    result = run_agent_once("--config", str(config))
    assert result.returncode == 2
    assert f"{config}:2: agent.drain" in result.stderr and "'soon'" in result.stderr


def test_unwritable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_agent_once(
        "--state-dir",
        str(blocker / "state"),
        "--health-listen",
        "127.0.0.1:0",
        "--listen",
        "off",
        "--metrics-listen",
        "off",
    )
    assert result.returncode == 2
    assert "state directory" in result.stderr and str(blocker) in result.stderr
