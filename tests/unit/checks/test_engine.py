"""The check engine with real commands and sockets, and a runner that breaks."""

from __future__ import annotations

import socket
import sys

import pytest

from healthwatch.aio import SystemClock
from healthwatch.checks import engine
from healthwatch.checks.engine import run_check
from healthwatch.checks.runners.base import Probe
from healthwatch.checks.spec import CheckSpec, build_checks


def _spec(entry: dict[str, object]) -> CheckSpec:
    (spec,) = build_checks([{"name": "c", **entry}], source="test.yaml")
    return spec


async def test_an_exec_check_passes_on_exit_0() -> None:
    spec = _spec({"kind": "exec", "argv": [sys.executable, "-c", "print('hello')"],
                  "conditions": ["exit_code == 0", 'stdout contains "hello"']})  # fmt: skip
    result = await run_check(spec, clock=SystemClock())

    assert result.ok and result.errors == () and result.attempts == 1
    assert [o.ok for o in result.observations] == [True, True]


async def test_an_exec_check_fails_with_the_exit_code_on_every_attempt() -> None:
    spec = _spec({"kind": "exec", "argv": [sys.executable, "-c", "raise SystemExit(3)"],
                  "retries": 1})  # fmt: skip
    result = await run_check(spec, clock=SystemClock())

    assert not result.ok and result.attempts == 2
    assert result.errors == ("exit_code == 0 (observed exit_code=3)",)


async def test_a_missing_program_is_not_reached() -> None:
    spec = _spec({"kind": "exec", "argv": ["/nonexistent/healthwatch-test-program"]})
    result = await run_check(spec, clock=SystemClock())

    assert not result.ok and result.errors
    assert "/nonexistent/healthwatch-test-program" in result.errors[0]


async def test_a_tcp_check_on_a_closed_port_fails() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    spec = _spec({"kind": "tcp", "host": "127.0.0.1", "port": port, "timeout": "2s"})

    result = await run_check(spec, clock=SystemClock())

    assert not result.ok and result.attempts == 1
    assert "refused" in result.errors[0]
    assert result.errors[-1] == "tcp.connected == true (observed tcp.connected=false)"


async def test_a_tcp_check_on_a_listening_port_passes() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        spec = _spec({"kind": "tcp", "host": "127.0.0.1", "port": port})
        result = await run_check(spec, clock=SystemClock())

    assert result.ok, result.errors


async def test_a_broken_runner_fails_the_run_without_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> Probe:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "run_exec", broken)
    spec = _spec({"kind": "exec", "argv": ["true"], "retries": 2})

    result = await run_check(spec, clock=SystemClock(), run_id="r")

    assert not result.ok and result.attempts == 3 and result.observations == ()
    assert result.errors == ("exec runner failed: RuntimeError: boom",)
