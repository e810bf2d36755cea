"""Reading a reload's config: all of it validated, every error named, restart-only keys kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthwatch.agent_reload import RESTART_FIELDS, ReloadRejectedError, prepare
from healthwatch.aio.clock import ManualClock
from healthwatch.config.agent import AgentConfig, load_config
from healthwatch.problems.base import DaemonKinds

QUIET = "log_monitors: []\nstats_monitor: false\ngpu: false\n"


def start(tmp_path: Path, text: str, **options: object) -> tuple[Path, AgentConfig]:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    overrides = {"state_dir": str(tmp_path / "state"), "listen": "127.0.0.1:0"}
    return path, load_config(str(path), overrides=overrides, **options)  # type: ignore[arg-type]


def plan_of(config: AgentConfig) -> object:
    return prepare(config, kinds=DaemonKinds(), clock=ManualClock(), health_url="http://h:1")


def test_a_valid_config_is_planned_with_restart_only_keys_kept(tmp_path: Path) -> None:
    path, running = start(tmp_path, QUIET + "agent:\n  metrics_listen: 127.0.0.1:9\n")
    path.write_text(
        "agent:\n  metrics_listen: 'off'\n  node_name: elsewhere\n  drain: 7s\n"
        "  listen: 127.0.0.1:5\n  reload_poll: 1s\n"
        "history:\n  raw_retention: 2d\n"
        "stats_monitor: false\ngpu: false\n"
        "checks:\n  - {name: port, kind: tcp, host: 127.0.0.1, port: 1}\n"
    )
    plan = prepare(running, kinds=DaemonKinds(), clock=ManualClock(), health_url=None)
    assert plan.needs_restart == ("agent.metrics_listen", "agent.node_name", "history")
    config = plan.config
    assert config.metrics_listen == running.metrics_listen  # kept until a restart
    assert config.node_name == running.node_name and config.history == running.history
    assert config.listen == running.listen  # the command line still wins over the file
    assert (config.drain_seconds, config.reload_poll_seconds) == (7.0, 1.0)  # applied
    assert [spec.id for spec in plan.checks] == ["default/port"]
    assert [d.name for d in plan.daemons] == ["kernel-monitor"]  # the embedded default
    assert "kernel_log" in plan.decisions and plan.factories.keys() == {"logmonitor"}


def test_without_checks_the_self_check_of_the_health_listener_is_planned(tmp_path: Path) -> None:
    _, running = start(tmp_path, QUIET)
    plan = prepare(running, kinds=DaemonKinds(), clock=ManualClock(), health_url="http://h:1")
    (check,) = plan.checks
    assert check.id == "healthwatch/agent-livez" and plan.daemons == () and not plan.needs_restart


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("checks: [\n", ":2:1: invalid YAML"),
        ("agent:\n  listne: x\n", ":2: agent: Object contains unknown field `listne`"),
        ("agent:\n  reload_poll: -1s\n", ":2: agent.reload_poll: expected a duration"),
        ("agent:\n  reload_poll: 10ms\n", "agent.reload_poll: must be 0 (off) or between"),
        ("checks:\n  - {name: x, kind: tcp, port: 1, bogus: 2}\n", "unknown field `bogus`"),
        ("- a list\n", "the top level must be a mapping"),
    ],
)
def test_an_invalid_config_is_rejected_naming_the_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    path, running = start(tmp_path, QUIET)
    path.write_text(text)
    with pytest.raises(ReloadRejectedError) as caught:
        plan_of(running)
    (error,) = caught.value.errors
    assert error.startswith(str(path)) and expected in error


def test_every_part_is_validated_even_after_an_error(tmp_path: Path) -> None:
    path, running = start(tmp_path, QUIET)
    path.write_text(
        "log_monitors:\n  - {name: a, source: file, path: /x, rules: [{type: nope}]}\n"
        "checks:\n  - {name: web, kind: http, url: http://x/, timeout: 9h}\n"
    )
    with pytest.raises(ReloadRejectedError) as caught:
        plan_of(running)
    daemons, checks = caught.value.errors
    assert "log_monitors[0].rules[0].type" in daemons and f"{path}:2" in daemons
    assert "checks[0].timeout" in checks and f"{path}:4" in checks
    assert str(caught.value) == f"{daemons}; {checks}"


def _plugin_file(path: Path, reason: str) -> None:
    rule = {"type": "permanent", "condition": "C", "reason": reason, "path": "/bin/true"}
    path.write_text(
        json.dumps(
            {
                "plugin": "custom",
                "pluginConfig": {"invoke_interval": "10s", "timeout": "1s"},
                "source": "custom-plugin-monitor",
                "conditions": [{"type": "C", "reason": "Fine", "message": "fine"}],
                "rules": [rule],
            }
        )
    )


def test_node_problem_detector_files_from_flags_are_read_again(tmp_path: Path) -> None:
    npd = tmp_path / "plugins.json"
    _plugin_file(npd, "Broken")
    _, running = start(tmp_path, QUIET, custom_plugin_monitors=(str(npd),))
    _plugin_file(npd, "VeryBroken")
    plan = prepare(running, kinds=DaemonKinds(), clock=ManualClock(), health_url=None)
    (daemon,) = [d for d in plan.daemons if d.kind == "pluginmonitor"]
    assert "VeryBroken" in repr(daemon.config)
    npd.write_text('{"plugin": "custom", "rules": [{"type": "sometimes"}]}')
    with pytest.raises(ReloadRejectedError) as caught:
        plan_of(running)
    assert str(npd) in caught.value.errors[0]


def test_a_missing_file_is_rejected(tmp_path: Path) -> None:
    path, running = start(tmp_path, QUIET)
    path.unlink()
    with pytest.raises(ReloadRejectedError, match="cannot read"):
        plan_of(running)


@pytest.mark.parametrize(
    ("before", "after", "keys"),
    [
        ("heartbeat:\n  url: http://a/\n", "heartbeat:\n  url: http://b/\n  interval: 1m\n",
         ("heartbeat",)),
        ("", "health:\n  details: never\n  loop_stall: 3s\n",
         ("health.details", "health.loop_stall")),
        ("", "agent:\n  log_level: debug\n  host_root: /host\n",
         ("agent.host_root", "agent.log_level")),
        ("history:\n  raw_retention: 30d\n", "history:\n  raw_retention: 720h\n", ()),
        ("", "agent:\n  drain: 9s\n  reload_poll: 0\n", ()),
    ],
)  # fmt: skip
def test_restart_only_keys_are_named_once(
    tmp_path: Path, before: str, after: str, keys: tuple[str, ...]
) -> None:
    path, running = start(tmp_path, QUIET + before)
    path.write_text(QUIET + after)
    plan = prepare(running, kinds=DaemonKinds(), clock=ManualClock(), health_url=None)
    assert plan.needs_restart == tuple(sorted(keys, key=list(RESTART_FIELDS.values()).index))
