"""The plugin monitor's own health and metrics, from recorded outcomes."""

from __future__ import annotations

from pathlib import Path

from healthwatch.aio.processes import PluginStatus
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricKind
from healthwatch.problems.pluginmonitor.outcome import Outcome, ResultKind
from healthwatch.problems.pluginmonitor.specs import PluginRule
from healthwatch.problems.pluginmonitor.stats import TIMEOUTS_DEGRADE, MonitorStats


def _rule(name: str, program: str) -> PluginRule:
    return PluginRule(
        kind="temporary",
        reason=name,
        condition=None,
        path=program,
        program=program,
        args=(),
        timeout=5.0,
        interval=30.0,
        name=name,
    )


def _outcome(kind: ResultKind, *, exit_code: int | None = 0, error: str = "") -> Outcome:
    status = {
        ResultKind.OK: PluginStatus.OK,
        ResultKind.PROBLEM: PluginStatus.FAILING,
    }.get(kind, PluginStatus.UNKNOWN)
    return Outcome(
        status=status, kind=kind, message="m", exit_code=exit_code, stderr="", error=error
    )


def _record(stats: MonitorStats, rule: PluginRule, outcome: Outcome, lateness: float = 0.0) -> None:
    stats.record(rule, outcome, seconds=0.02, lateness=lateness, stdout_cut=False, stderr_cut=False)


def test_healthy_while_plugins_answer_ok_or_problem(tmp_path: Path) -> None:
    a, b = _rule("A", str(tmp_path / "a")), _rule("B", str(tmp_path / "b"))
    stats = MonitorStats([a, b])
    _record(stats, a, _outcome(ResultKind.OK))
    _record(stats, b, _outcome(ResultKind.PROBLEM, exit_code=1))
    assert stats.health() == (HealthStatus.HEALTHY, "2 plugins, 2 invocations, 1 problems")


def test_degraded_names_missing_unstartable_timing_out_and_unknown_plugins(tmp_path: Path) -> None:
    present = tmp_path / "present.sh"
    present.write_text("", encoding="utf-8")
    gone = _rule("Gone", str(tmp_path / "gone.sh"))
    stuck = _rule("Stuck", str(present))
    slow = _rule("Slow", str(tmp_path / "slow.sh"))
    odd = _rule("Odd", str(tmp_path / "odd.sh"))
    stats = MonitorStats([gone, stuck, slow, odd])
    _record(stats, gone, _outcome(ResultKind.ERROR, exit_code=None, error="executable not found"))
    _record(stats, stuck, _outcome(ResultKind.ERROR, exit_code=None, error="permission denied"))
    for _ in range(TIMEOUTS_DEGRADE):
        _record(stats, slow, _outcome(ResultKind.TIMEOUT, exit_code=None))
    _record(stats, odd, _outcome(ResultKind.UNKNOWN, exit_code=3))
    status, message = stats.health()
    assert status is HealthStatus.DEGRADED
    assert f"missing on disk: {tmp_path}/gone.sh" in message
    assert f"cannot start: {present} (permission denied)" in message
    assert f"timing out: {tmp_path}/slow.sh ({TIMEOUTS_DEGRADE} in a row)" in message
    assert f"unknown result: {tmp_path}/odd.sh (exit 3)" in message


def test_one_timeout_is_not_yet_degraded_and_recovery_clears(tmp_path: Path) -> None:
    rule = _rule("Slow", str(tmp_path / "slow.sh"))
    stats = MonitorStats([rule])
    _record(stats, rule, _outcome(ResultKind.TIMEOUT, exit_code=None))
    assert stats.health()[0] is HealthStatus.HEALTHY
    _record(stats, rule, _outcome(ResultKind.TIMEOUT, exit_code=None))
    assert stats.health()[0] is HealthStatus.DEGRADED
    _record(stats, rule, _outcome(ResultKind.OK))
    assert stats.health()[0] is HealthStatus.HEALTHY


def test_long_lists_are_bounded(tmp_path: Path) -> None:
    rules = [_rule(f"R{i}", str(tmp_path / f"gone{i}.sh")) for i in range(12)]
    stats = MonitorStats(rules)
    for rule in rules:
        _record(stats, rule, _outcome(ResultKind.ERROR, exit_code=None, error="not found"))
    _, message = stats.health()
    assert "and 7 more" in message
    assert "gone11.sh" not in message


def test_metric_families_cover_results_durations_truncation_and_lateness(tmp_path: Path) -> None:
    rule = _rule("A", str(tmp_path / "a"))
    stats = MonitorStats([rule])
    _record(stats, rule, _outcome(ResultKind.OK), lateness=0.02)
    stats.record(
        rule,
        _outcome(ResultKind.PROBLEM),
        seconds=1.5,
        lateness=2.0,
        stdout_cut=True,
        stderr_cut=False,
    )
    families = {f.name: f for f in stats.families("mon", "node-1", running=1, skipped=2)}
    invocations = families["healthwatch_pluginmonitor_invocations"]
    values = {s.labels["result"]: s.value for s in invocations.samples}
    assert values == {"ok": 1.0, "problem": 1.0, "unknown": 0.0, "timeout": 0.0, "error": 0.0}
    assert all(
        s.labels["monitor"] == "mon" and s.labels["node"] == "node-1" and s.labels["rule"] == "A"
        for s in invocations.samples
    )
    duration = families["healthwatch_pluginmonitor_duration_seconds"]
    assert duration.kind is MetricKind.HISTOGRAM
    assert duration.samples[0].value == 2.0
    assert abs(duration.samples[0].sum - 1.52) < 1e-9
    cut = {
        s.labels["stream"]: s.value
        for s in families["healthwatch_pluginmonitor_output_truncated"].samples
    }
    assert cut == {"stdout": 1.0, "stderr": 0.0}
    lateness = families["healthwatch_pluginmonitor_lateness_seconds"].samples[0]
    assert lateness.value == 2.0
    assert dict(lateness.buckets)[1.0] == 1.0
    assert dict(lateness.buckets)[2.5] == 2.0
    assert families["healthwatch_pluginmonitor_lateness_max_seconds"].samples[0].value == 2.0
    assert families["healthwatch_pluginmonitor_skipped_runs"].samples[0].value == 2.0
    assert families["healthwatch_pluginmonitor_running"].samples[0].value == 1.0
