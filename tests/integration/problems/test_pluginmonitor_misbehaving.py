"""The plugin monitor with plugins that misbehave: they crash, hang, flood, fork, vanish.

Plugins are ``#!/bin/sh`` scripts written to tmp_path and executed directly (never
through a shell by the monitor). Intervals are a fraction of a second so that each
test takes about a second of real time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus
from healthwatch.problems.pluginmonitor.monitor import PluginMonitor
from healthwatch.problems.pluginmonitor.outcome import START_ERROR_MESSAGE, ResultKind
from tests.integration.aio.groups import group_gone, group_killed, script
from tests.integration.aio.pluginkit import (
    Collector,
    condition,
    make_config,
    metric_values,
    running,
)

NTP = {"type": "NTPProblem", "reason": "NTPIsUp", "message": "ntp service is up"}


async def test_a_crashing_plugin_is_unknown_and_reported(tmp_path: Path) -> None:
    plugin = script(tmp_path / "crash.sh", "echo about to crash\nkill -SEGV $$\n")
    config = make_config(
        conditions=[NTP],
        rules=[
            {"type": "permanent", "condition": "NTPProblem", "reason": "NTPIsDown", "path": plugin}
        ],
    )
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 2)
        now = condition(sink.statuses[-1], "NTPProblem")
        assert (now.status, now.reason, now.message) == (
            ConditionStatus.UNKNOWN,
            "NTPIsUp",
            "about to crash",
        )
        status, message = monitor.health()
        assert status is HealthStatus.DEGRADED
        assert f"unknown result: {plugin} (exit -{int(signal.SIGSEGV)})" in message


async def test_a_plugin_sleeping_past_its_timeout_is_killed_with_its_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    plugin = script(
        tmp_path / "hang.sh", f"echo $$ >> {pids}\necho started\nsleep 60 &\nsleep 60\n"
    )
    config = make_config(
        interval="300ms",
        timeout="1s",
        max_output_length=500,
        rules=[{"type": "temporary", "reason": "Hung", "path": plugin, "timeout": "300ms"}],
    )
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 2)
        [event] = sink.statuses[-1].events
        assert event.message == (
            f'Timeout when running plugin "{plugin}": state - signal: killed. output - "started"'
        )
        assert all(i.outcome.kind is ResultKind.TIMEOUT for i in sink.invocations)
        assert all(0.3 <= i.duration < 1.0 for i in sink.invocations)
        status, message = monitor.health()
        assert status is HealthStatus.DEGRADED
        assert f"timing out: {plugin}" in message
        groups = [int(line) for line in pids.read_text(encoding="utf-8").split()]
        for pgid in groups[: len(sink.invocations)]:
            assert await group_killed(pgid)
    for pgid in [int(line) for line in pids.read_text(encoding="utf-8").split()]:
        assert await group_gone(pgid)
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
    assert metric_values(monitor, "invocations")[("timeout", "Hung")] >= 2


async def test_a_plugin_printing_ten_megabytes_is_capped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plugin = script(
        tmp_path / "flood.sh",
        "head -c 10485760 /dev/zero | tr '\\0' a\n"
        "head -c 1048576 /dev/zero | tr '\\0' e >&2\nexit 1\n",
    )
    config = make_config(rules=[{"type": "temporary", "reason": "Flood", "path": plugin}])
    monitor, sink = PluginMonitor(config), Collector()
    with caplog.at_level(logging.INFO, logger="healthwatch.problems.pluginmonitor"):
        async with running(monitor, sink):
            await sink.wait_for(lambda: len(sink.invocations) >= 2)
    [event] = sink.statuses[-1].events
    assert event.message == "a" * 80
    assert all(i.duration < 5.0 for i in sink.invocations)
    cut = metric_values(monitor, "output_truncated")
    assert cut[("Flood", "stdout")] >= 2
    assert cut[("Flood", "stderr")] >= 2
    stderr_lines = [r.getMessage() for r in caplog.records if "stderr" in r.getMessage()]
    assert stderr_lines
    assert all("[cut at 4096 bytes]" in line for line in stderr_lines)
    assert all(len(line) < 4096 + 300 for line in stderr_lines)
    assert monitor.health()[0] is HealthStatus.HEALTHY


async def test_a_grandchild_outliving_its_plugin_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    plugin = script(
        tmp_path / "forks.sh", f"echo $$ > {pids}\nsleep 60 &\necho $! >> {pids}\necho ok\n"
    )
    config = make_config(
        interval="10s",
        conditions=[NTP],
        rules=[
            {"type": "permanent", "condition": "NTPProblem", "reason": "NTPIsDown", "path": plugin}
        ],
    )
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 1)
        [invocation] = sink.invocations
        assert invocation.outcome.kind is ResultKind.OK
        assert invocation.duration < 2.0
        pgid, grandchild = (int(line) for line in pids.read_text(encoding="utf-8").split())
        assert await group_killed(pgid)
        assert await group_gone(pgid)
        with pytest.raises(ProcessLookupError):
            os.kill(grandchild, 0)


async def test_a_plugin_deleted_while_scheduled_is_reported_and_the_monitor_goes_on(
    tmp_path: Path,
) -> None:
    body = "echo present\nexit 0\n"
    plugin = script(tmp_path / "vanishing.sh", body)
    config = make_config(rules=[{"type": "temporary", "reason": "Vanished", "path": plugin}])
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 1)
        await asyncio.to_thread(Path(plugin).unlink)
        await sink.wait_for(lambda: sink.invocations[-1].outcome.kind is ResultKind.ERROR)
        [event] = sink.statuses[-1].events
        assert (event.reason, event.message) == ("Vanished", START_ERROR_MESSAGE)
        status, message = monitor.health()
        assert status is HealthStatus.DEGRADED
        assert f"missing on disk: {plugin}" in message
        script(Path(plugin), body)
        await sink.wait_for(lambda: sink.invocations[-1].outcome.kind is ResultKind.OK)
        assert monitor.health()[0] is HealthStatus.HEALTHY
    assert metric_values(monitor, "invocations")[("error", "Vanished")] >= 1
