"""``run_command`` against real programs: caps, start errors, timeouts, and what children leave.

Every command here is a real ``#!/bin/sh`` script written to tmp_path and executed
directly. Process groups are checked in ``/proc`` right after a run (nothing of the
group may still be alive), and with ``os.killpg(pgid, 0)`` once init has reaped the
orphans (nothing of the group may exist at all).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from healthwatch.aio.processes import (
    DRAIN_GRACE,
    KILL_GRACE,
    Command,
    PluginStatus,
    plugin_status,
    run_command,
)
from tests.integration.aio.groups import group_gone, group_killed, script


def _pid(path: Path) -> int:
    return int(path.read_text(encoding="utf-8").split()[0])


async def test_output_beyond_the_cap_is_drained_and_flagged(tmp_path: Path) -> None:
    program = script(
        tmp_path / "chatty.sh",
        "head -c 3000000 /dev/zero | tr '\\0' x\nprintf 'oops' >&2\nexit 0\n",
    )
    result = await run_command(Command(argv=[program], output_cap=4096), timeout=20)
    assert result.exit_code == 0
    assert result.stdout == b"x" * 4096
    assert result.stdout_truncated
    assert result.stderr == b"oops"
    assert not result.stderr_truncated
    assert result.started and not result.timed_out


async def test_output_exactly_at_the_cap_is_not_truncated(tmp_path: Path) -> None:
    program = script(
        tmp_path / "exact.sh",
        "head -c 100 /dev/zero | tr '\\0' y\nhead -c 101 /dev/zero | tr '\\0' z >&2\n",
    )
    result = await run_command(Command(argv=[program], output_cap=100), timeout=10)
    assert result.stdout == b"y" * 100
    assert not result.stdout_truncated
    assert result.stderr == b"z" * 100
    assert result.stderr_truncated


@pytest.mark.parametrize("case", ["missing", "not-executable", "directory", "missing-cwd", "empty"])
async def test_start_errors_name_what_is_wrong(tmp_path: Path, case: str) -> None:
    plain = tmp_path / "plain.sh"
    plain.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    ok = script(tmp_path / "ok.sh", "exit 0\n")
    argv, cwd, expected = {
        "missing": ([str(tmp_path / "gone.sh")], None, "executable not found"),
        "not-executable": ([str(plain)], None, "permission denied"),
        "directory": ([str(tmp_path)], None, "permission denied"),
        "missing-cwd": ([ok], str(tmp_path / "nowhere"), "working directory not found"),
        "empty": ([], None, "empty argv"),
    }[case]
    result = await run_command(Command(argv=argv, cwd=cwd), timeout=5)
    assert not result.started
    assert expected in result.error
    assert result.exit_code is None
    assert not result.timed_out
    assert plugin_status(result.exit_code) is PluginStatus.UNKNOWN


async def test_a_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    program = script(tmp_path / "hang.sh", f"echo $$ > {pids}\nsleep 60 &\nsleep 60\n")
    started = time.monotonic()
    result = await run_command(Command(argv=[program]), timeout=0.5)
    assert result.timed_out
    assert result.exit_code is None
    assert 0.5 <= result.duration < 0.5 + 1.0
    assert time.monotonic() - started < 0.5 + KILL_GRACE + DRAIN_GRACE + 1.0
    pgid = _pid(pids)
    assert await group_killed(pgid)
    assert await group_gone(pgid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)


async def test_a_group_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    program = script(tmp_path / "stubborn.sh", f"trap '' TERM\necho $$ > {pids}\nsleep 60\n")
    started = time.monotonic()
    result = await run_command(Command(argv=[program]), timeout=0.3)
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert 0.3 + KILL_GRACE * 0.9 <= elapsed < 0.3 + KILL_GRACE + DRAIN_GRACE + 1.0
    pgid = _pid(pids)
    assert await group_killed(pgid)
    assert await group_gone(pgid)


async def test_a_grandchild_holding_the_pipe_does_not_hold_the_result(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    program = script(
        tmp_path / "forks.sh",
        f"echo $$ > {pids}\nsleep 60 &\necho $! >> {pids}\necho done\nexit 3\n",
    )
    started = time.monotonic()
    result = await run_command(Command(argv=[program]), timeout=10)
    assert time.monotonic() - started < 3.0
    assert result.exit_code == 3
    assert result.stdout == b"done\n"
    assert not result.timed_out
    pgid, grandchild = (int(line) for line in pids.read_text(encoding="utf-8").split())
    assert await group_killed(pgid)
    assert not _alive(grandchild)
    assert await group_gone(pgid)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


async def test_a_process_escaping_the_group_only_delays_the_result(tmp_path: Path) -> None:
    escaped = tmp_path / "escaped"
    program = script(
        tmp_path / "escapes.sh", f"setsid sh -c 'echo $$ > {escaped}; exec sleep 60' &\nexit 0\n"
    )
    started = time.monotonic()
    try:
        result = await run_command(Command(argv=[program]), timeout=10)
        elapsed = time.monotonic() - started
        assert result.exit_code == 0
        assert elapsed < KILL_GRACE + DRAIN_GRACE + 2.0
    finally:
        for _ in range(500):  # the escaped process writes its pid soon after it starts
            if escaped.exists() and escaped.read_text(encoding="utf-8").strip():
                break
            await asyncio.sleep(0.01)
        if escaped.exists():
            pid = _pid(escaped)
            os.kill(pid, signal.SIGKILL)
            # Its end of our pipe closes as it dies; the loop must see that EOF to close
            # the reading end, which run_command stopped waiting for.
            assert await group_killed(pid)
            await asyncio.sleep(0.1)


async def test_the_environment_is_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HW_TEST_SECRET", "hunter2")
    program = script(tmp_path / "env.sh", "env\n")
    result = await run_command(Command(argv=[program], env={"EXTRA": "1"}), timeout=10)
    names = {line.split("=", 1)[0] for line in result.stdout.decode().splitlines()}
    assert {"PATH", "LANG", "EXTRA"} <= names
    assert "HW_TEST_SECRET" not in names


async def test_death_by_signal_is_a_negative_exit_code(tmp_path: Path) -> None:
    program = script(tmp_path / "dies.sh", "kill -KILL $$\n")
    result = await run_command(Command(argv=[program]), timeout=10)
    assert result.exit_code == -signal.SIGKILL
    assert not result.timed_out
    assert plugin_status(result.exit_code) is PluginStatus.UNKNOWN
