"""The plugin monitor with real plugins: the protocol, the schedule, restarts.

Plugins are ``#!/bin/sh`` scripts written to tmp_path and executed directly (never
through a shell by the monitor). Intervals are a fraction of a second so that each
test takes about a second of real time.
"""

from __future__ import annotations

from pathlib import Path

from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.pluginmonitor.monitor import PluginMonitor
from tests.integration.aio.groups import script
from tests.integration.aio.pluginkit import (
    Collector,
    condition,
    control,
    controlled_script,
    make_config,
    metric_values,
    running,
)

NTP = {"type": "NTPProblem", "reason": "NTPIsUp", "message": "ntp service is up"}


async def test_exit_codes_drive_the_condition_as_npd_does(tmp_path: Path) -> None:
    control(tmp_path, 0, "in sync")
    plugin = script(tmp_path / "check_ntp.sh", controlled_script(tmp_path))
    config = make_config(
        conditions=[NTP],
        rules=[
            {"type": "permanent", "condition": "NTPProblem", "reason": "NTPIsDown", "path": plugin}
        ],
    )
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 1)
        first = sink.statuses[0]
        assert first.events == ()
        assert condition(first, "NTPProblem").status is ConditionStatus.FALSE

        steps = [
            (1, "ntp is down\ndetails", ConditionStatus.TRUE, "NTPIsDown", "ntp is down"),
            (2, "cannot tell", ConditionStatus.UNKNOWN, "NTPIsUp", "cannot tell"),
            (1, "down again", ConditionStatus.TRUE, "NTPIsDown", "down again"),
            (0, "fine now", ConditionStatus.FALSE, "NTPIsUp", "ntp service is up"),
        ]
        for code, output, status, reason, message in steps:
            control(tmp_path, code, output)
            changed = await sink.condition_becomes("NTPProblem", status)
            now = condition(changed, "NTPProblem")
            assert (now.reason, now.message) == (reason, message)
            [event] = changed.events
            assert event.severity is (
                Severity.WARN if status is ConditionStatus.TRUE else Severity.INFO
            )
            assert event.message == (
                f"Node condition NTPProblem is now: {status}, reason: {reason}, "
                f'message: "{message}"'
            )
        count = len(sink.statuses)
        await sink.wait_for(lambda: len(sink.statuses) >= count + 2)
        assert all(s.events == () for s in sink.statuses[count:])  # no change, no event
    assert monitor.health()[0] is HealthStatus.HEALTHY


async def test_a_temporary_rule_reports_problems_and_unknowns_as_events(tmp_path: Path) -> None:
    control(tmp_path, 0, "quiet")
    plugin = script(tmp_path / "conntrack.sh", controlled_script(tmp_path))
    config = make_config(rules=[{"type": "temporary", "reason": "ConntrackFull", "path": plugin}])
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 2)
        assert all(s.events == () for s in sink.statuses)
        for code in (1, 3):
            control(tmp_path, code, f"table full ({code})")
            [event] = (await sink.event_says(f"table full ({code})")).events
            assert (event.reason, event.message, event.severity) == (
                "ConntrackFull",
                f"table full ({code})",
                Severity.WARN,
            )
    counts = metric_values(monitor, "invocations")
    assert counts[("problem", "ConntrackFull")] >= 1
    assert counts[("unknown", "ConntrackFull")] >= 1


async def test_the_concurrency_limit_is_observed(tmp_path: Path) -> None:
    log = tmp_path / "log"
    plugin = script(tmp_path / "busy.sh", f"echo start >> {log}\nsleep 0.3\necho end >> {log}\n")
    rules = [{"type": "temporary", "reason": f"Busy{i}", "path": plugin} for i in range(6)]
    config = make_config(interval="30s", concurrency=2, rules=rules)
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 6)
    running_now = most = 0
    lines = log.read_text(encoding="utf-8").split()
    assert len(lines) == 12
    for line in lines:
        running_now += 1 if line == "start" else -1
        most = max(most, running_now)
    assert most == 2
    lateness = sorted(i.lateness for i in sink.invocations)
    assert lateness[-1] >= 0.5  # the last pair waited for two rounds of permits


async def test_skip_initial_status_reports_nothing_before_the_first_result(
    tmp_path: Path,
) -> None:
    plugin = script(tmp_path / "ok.sh", "exit 0\n")
    other = {"type": "Other", "reason": "OtherFine", "message": "fine"}
    rule = {"type": "permanent", "condition": "NTPProblem", "reason": "NTPIsDown", "path": plugin}
    for skip in (False, True):
        config = make_config(
            interval="10s", skip_initial_status=skip, conditions=[NTP, other], rules=[rule]
        )
        monitor, sink = PluginMonitor(config), Collector()
        async with running(monitor, sink):
            await sink.invocations_at_least(1)
        assert len(sink.statuses) == (1 if skip else 2)
        assert [c.type for c in sink.statuses[0].conditions] == ["NTPProblem", "Other"]
        assert all(c.status is ConditionStatus.FALSE for c in sink.statuses[-1].conditions)


async def test_a_rule_with_its_own_interval_runs_on_its_own_grid(tmp_path: Path) -> None:
    plugin = script(tmp_path / "ok.sh", "exit 0\n")
    config = make_config(
        interval="1s",
        rules=[
            {"type": "temporary", "reason": "Fast", "path": plugin, "interval": "150ms"},
            {"type": "temporary", "reason": "Slow", "path": plugin},
        ],
    )
    monitor, sink = PluginMonitor(config), Collector()
    async with running(monitor, sink):
        await sink.wait_for(lambda: sink.count("Fast") >= 8, within=15)
    start = sink.invocations[0].tick
    fast = [round(i.tick - start, 6) for i in sink.invocations if i.rule.name == "Fast"]
    slow = [round(i.tick - start, 6) for i in sink.invocations if i.rule.name == "Slow"]
    assert fast[:8] == [round(0.15 * k, 6) for k in range(8)]
    assert slow[0] == 0.0
    assert set(slow) <= {0.0, 1.0}


async def test_a_restart_keeps_the_condition_instead_of_flapping(tmp_path: Path) -> None:
    control(tmp_path, 1, "ntp is down")
    plugin = script(tmp_path / "check_ntp.sh", controlled_script(tmp_path))
    config = make_config(
        interval="10s",
        conditions=[NTP],
        rules=[
            {"type": "permanent", "condition": "NTPProblem", "reason": "NTPIsDown", "path": plugin}
        ],
    )
    state = tmp_path / "state"
    first, sink = PluginMonitor(config, state_dir=state), Collector()
    async with running(first, sink):
        await sink.wait_for(lambda: len(sink.invocations) >= 1)
    assert condition(sink.statuses[-1], "NTPProblem").status is ConditionStatus.TRUE
    assert (state / "pluginmonitor" / "plugins.json").exists()

    second, again = PluginMonitor(config, state_dir=state), Collector()
    async with running(second, again):
        await again.wait_for(lambda: len(again.invocations) >= 1)
    initial, result = again.statuses
    assert condition(initial, "NTPProblem").status is ConditionStatus.TRUE
    assert condition(initial, "NTPProblem").message == "ntp is down"
    assert result.events == ()  # still down: no second "is now: True" event
