"""Starting the real agent as a subprocess, on ports the OS chooses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT = 15.0


@dataclass
class AgentProcess:
    process: subprocess.Popen[str]
    state_dir: Path
    urls: dict[str, str | None] = field(default_factory=dict)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, str, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


def agent_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "healthwatch", "run", *args]


def launch_agent(
    state: Path, *args: str, wait: bool = True, env: dict[str, str] | None = None
) -> AgentProcess:
    """Start ``healthwatch run`` on OS-chosen loopback ports; wait for its runtime file."""
    (state / "agent.json").unlink(missing_ok=True)
    argv = agent_command(
        "--state-dir",
        str(state),
        "--listen",
        "127.0.0.1:0",
        "--health-listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        *args,
    )
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    agent = AgentProcess(process, state)
    if wait:
        runtime = state / "agent.json"
        deadline = time.monotonic() + START_TIMEOUT
        while not runtime.exists():
            if process.poll() is not None:
                _, err = process.communicate()
                raise AssertionError(f"agent exited with {process.returncode}: {err}")
            if time.monotonic() > deadline:
                process.kill()
                process.communicate()
                raise AssertionError("agent did not start in time")
            time.sleep(0.02)
        agent.urls = json.loads(runtime.read_text())
    return agent


def kill_agent(agent: AgentProcess) -> None:
    """Stop an agent a test left running, without waiting for a drain."""
    if agent.process.poll() is None:
        agent.process.kill()
        agent.process.communicate(timeout=10)


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[object]:
    started: list[AgentProcess] = []

    def start(
        *args: str,
        wait: bool = True,
        env: dict[str, str] | None = None,
        state_dir: Path | None = None,
    ) -> AgentProcess:
        state = state_dir or tmp_path / f"state{len(started)}"
        agent = launch_agent(state, *args, wait=wait, env=env)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        kill_agent(agent)


def run_agent_once(*args: str) -> subprocess.CompletedProcess[str]:
    """``healthwatch run ARGS`` expected to stop by itself (an error), with its output."""
    return subprocess.run(
        agent_command(*args), capture_output=True, text=True, timeout=30, check=False
    )
