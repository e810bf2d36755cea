"""The exec runner against real subprocesses: exit codes, caps, timeouts, process groups."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from healthwatch.checks.expressions import compile_condition
from healthwatch.checks.runners.exec import ExecTarget, PluginStatus, plugin_status, run_exec

PY = sys.executable


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie awaiting a reaper that is not us counts as dead."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


async def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, "ok"), (1, "failing"), (2, "unknown")],
)
async def test_exit_codes_map_to_plugin_status(code: int, status: str) -> None:
    probe = await run_exec(
        ExecTarget([PY, "-c", f"print('hello'); raise SystemExit({code})"]), timeout=10
    )
    assert probe.reached and probe.error == ""
    assert probe.context["exit_code"] == code
    assert probe.context["status"] == status
    assert probe.context["stdout"] == "hello\n"
    assert probe.context["timed_out"] is False
    assert isinstance(probe.context["latency"], float) and probe.context["latency"] > 0


def test_plugin_status_table() -> None:
    assert plugin_status(0) is PluginStatus.OK
    assert plugin_status(1) is PluginStatus.FAILING
    assert plugin_status(-9) is PluginStatus.UNKNOWN
    assert plugin_status(None) is PluginStatus.UNKNOWN


async def test_stderr_is_captured_and_decoded_with_replacement() -> None:
    script = "import sys; sys.stderr.buffer.write(b'bad \\xff byte'); sys.stdout.write('out')"
    probe = await run_exec(ExecTarget([PY, "-c", script]), timeout=10)
    assert probe.context["stderr"] == "bad \ufffd byte"
    assert probe.context["stdout"] == "out"


async def test_output_beyond_the_cap_is_drained_without_blocking() -> None:
    script = (
        "import sys; sys.stdout.buffer.write(b'x' * 5_000_000); "
        "sys.stderr.buffer.write(b'e' * 3_000_000); print('done', file=sys.stderr)"
    )
    started = time.monotonic()
    probe = await run_exec(ExecTarget([PY, "-c", script], output_cap=1000), timeout=20)
    assert time.monotonic() - started < 10
    assert probe.context["exit_code"] == 0
    assert probe.context["stdout"] == "x" * 1000
    assert probe.context["stderr"] == "e" * 1000


async def test_timeout_kills_the_whole_group_including_a_grandchild(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The grandchild ignores SIGTERM, so only the SIGKILL to the group can stop it.
    script = f"(trap '' TERM; exec sleep 300) & echo $! > {pidfile}; wait"
    started = time.monotonic()
    probe = await run_exec(ExecTarget(["/bin/sh", "-c", script]), timeout=0.5)
    elapsed = time.monotonic() - started
    assert probe.reached
    assert probe.context["timed_out"] is True
    assert probe.context["exit_code"] is None
    assert probe.context["status"] == "unknown"
    assert "timed out after 0.5s" in probe.error
    assert elapsed < 5
    grandchild = int(pidfile.read_text())
    assert await _gone(grandchild)


async def test_leftover_background_process_is_killed_after_a_normal_exit(tmp_path: Path) -> None:
    pidfile = tmp_path / "daemon.pid"
    script = f"sleep 300 & echo $! > {pidfile}; echo started"
    probe = await run_exec(ExecTarget(["/bin/sh", "-c", script]), timeout=10)
    assert probe.context["exit_code"] == 0
    assert probe.context["timed_out"] is False
    assert probe.context["stdout"] == "started\n"
    grandchild = int(pidfile.read_text())
    assert await _gone(grandchild)


async def test_environment_is_minimal_unless_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHWATCH_TEST_SECRET", "hunter2")
    script = "import os, json; print(json.dumps(dict(os.environ)))"
    probe = await run_exec(ExecTarget([PY, "-c", script]), timeout=10)
    stdout = probe.context["stdout"]
    assert isinstance(stdout, str)
    assert "HEALTHWATCH_TEST_SECRET" not in stdout
    assert '"PATH"' in stdout

    passed = await run_exec(
        ExecTarget([PY, "-c", script], env={"HEALTHWATCH_TEST_SECRET": "given"}), timeout=10
    )
    assert '"HEALTHWATCH_TEST_SECRET": "given"' in str(passed.context["stdout"])


async def test_cwd_is_used(tmp_path: Path) -> None:
    # pytest's tmp_path is already resolved, so the child's getcwd() reports it unchanged.
    script = "import os; print(os.getcwd())"
    probe = await run_exec(ExecTarget([PY, "-c", script], cwd=str(tmp_path)), timeout=10)
    assert probe.context["stdout"] == f"{tmp_path}\n"


async def test_missing_executable_is_not_reached() -> None:
    probe = await run_exec(ExecTarget(["/nonexistent/check-thing", "--flag"]), timeout=10)
    assert not probe.reached
    assert probe.error == "executable not found: /nonexistent/check-thing"
    assert probe.context == {}


async def test_missing_cwd_and_empty_argv_are_not_reached(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    probe = await run_exec(ExecTarget(["true"], cwd=missing), timeout=10)
    assert not probe.reached and probe.error == f"working directory not found: {missing}"
    empty = await run_exec(ExecTarget([]), timeout=10)
    assert not empty.reached and "empty argv" in empty.error


async def test_outcome_feeds_the_conditions_language() -> None:
    probe = await run_exec(ExecTarget([PY, "-c", "print('all ok')"]), timeout=10)
    assert compile_condition('exit_code == 0 and stdout matches "ok"').evaluate(probe.context).ok
    assert compile_condition('status == "ok"').evaluate(probe.context).ok
    assert not compile_condition("exit_code != 0").evaluate(probe.context).ok
