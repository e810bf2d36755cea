"""node-problem-detector's custom-plugin-monitor JSON loads unchanged; bad files say what is wrong.

The accepted files follow the shapes NPD ships in ``config/`` (the NTP plugin, the
network-problem plugin, the health checker, the log counter), written with our own
plugin scripts in tmp_path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from healthwatch.model.errors import ConfigError
from healthwatch.model.problems import ProblemDeclaration
from healthwatch.problems.pluginmonitor.config import load_npd_custom_plugin_monitor


def _plugin(directory: Path, name: str = "check.sh", *, executable: bool = True) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755 if executable else 0o644)
    return path


def _write(directory: Path, doc: Any, name: str = "monitor.json") -> Path:
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def _ntp(plugin: Path) -> dict[str, Any]:
    return {
        "plugin": "custom",
        "pluginConfig": {
            "invoke_interval": "30s",
            "timeout": "5s",
            "max_output_length": 80,
            "concurrency": 3,
        },
        "source": "ntp-custom-plugin-monitor",
        "conditions": [{"type": "NTPProblem", "reason": "NTPIsUp", "message": "ntp service is up"}],
        "rules": [
            {
                "type": "permanent",
                "condition": "NTPProblem",
                "reason": "NTPIsDown",
                "path": str(plugin),
                "timeout": "3s",
            }
        ],
    }


def test_the_ntp_shape_loads_with_its_values(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    config = load_npd_custom_plugin_monitor(_write(tmp_path, _ntp(plugin)))
    assert config.name == "ntp-custom-plugin-monitor"
    assert (config.interval, config.timeout, config.max_output_length, config.concurrency) == (
        30.0,
        5.0,
        80,
        3,
    )
    assert not config.message_change_updates and not config.skip_initial_status
    assert config.metrics_reporting
    [rule] = config.rules
    assert (rule.kind, rule.condition, rule.reason, rule.timeout, rule.interval) == (
        "permanent",
        "NTPProblem",
        "NTPIsDown",
        3.0,
        30.0,
    )
    assert rule.argv == (str(plugin),)
    assert config.declarations() == (
        ProblemDeclaration(reason="NTPIsDown", condition="NTPProblem"),
    )
    assert config.warnings == ()


def test_defaults_apply_when_settings_are_left_out(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    doc = {
        "plugin": "custom",
        "source": "network-custom-plugin-monitor",
        "metricsReporting": True,
        "conditions": [],
        "rules": [{"type": "temporary", "reason": "ConntrackFull", "path": str(plugin)}],
    }
    config = load_npd_custom_plugin_monitor(_write(tmp_path, doc))
    assert (config.interval, config.timeout, config.max_output_length, config.concurrency) == (
        30.0,
        5.0,
        80,
        3,
    )
    [rule] = config.rules
    assert (rule.kind, rule.condition, rule.timeout, rule.interval) == (
        "temporary",
        None,
        5.0,
        30.0,
    )


def test_the_health_checker_shape_loads_with_args_and_flags(tmp_path: Path) -> None:
    checker = _plugin(tmp_path, "health-checker")
    doc = {
        "plugin": "custom",
        "pluginConfig": {
            "invoke_interval": "10s",
            "timeout": "3m",
            "max_output_length": 80,
            "concurrency": 1,
            "enable_message_change_based_condition_update": True,
            "skip_initial_status": True,
        },
        "source": "health-checker",
        "metricsReporting": False,
        "conditions": [
            {"type": "KubeletUnhealthy", "reason": "KubeletIsHealthy", "message": "kubelet ok"}
        ],
        "rules": [
            {
                "type": "permanent",
                "condition": "KubeletUnhealthy",
                "reason": "KubeletUnhealthy",
                "path": str(checker),
                "args": ["--component=kubelet", "--enable-repair=false", "--cooldown-time=1m"],
                "timeout": "3m",
                "invoke_interval": "1m30s",
            }
        ],
    }
    config = load_npd_custom_plugin_monitor(_write(tmp_path, doc, "health-checker-kubelet.json"))
    assert config.message_change_updates and config.skip_initial_status
    assert config.declarations() == ()  # metricsReporting false
    [rule] = config.rules
    assert rule.argv[1:] == ("--component=kubelet", "--enable-repair=false", "--cooldown-time=1m")
    assert (rule.timeout, rule.interval) == (180.0, 90.0)
    assert config.state_key == "health-checker.health-checker-kubelet"


def test_relative_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plugin(tmp_path / "config" / "plugin", "check_ntp.sh")
    doc = _ntp(Path("./config/plugin/check_ntp.sh"))
    path = _write(tmp_path / "config", doc)
    monkeypatch.chdir(tmp_path)
    [rule] = load_npd_custom_plugin_monitor(path).rules
    assert rule.path == "config/plugin/check_ntp.sh"
    assert rule.program == os.path.join(str(tmp_path), "config/plugin/check_ntp.sh")
    monkeypatch.chdir(tmp_path / "config")
    with pytest.raises(ConfigError, match=r"rules\[0\]\.path: plugin not found"):
        load_npd_custom_plugin_monitor(path)


def test_keys_match_as_go_matches_them(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    text = json.dumps(
        {
            "Plugin": "custom",
            "PLUGINCONFIG": {"Invoke_Interval": "7s", "timeout": None, "concurrency": 1},
            "source": "first",
            "Source": "second",
            "conditions": None,
            "rules": [{"TYPE": "temporary", "Reason": "R", "Path": str(plugin), "args": None}],
        }
    )
    config = load_npd_custom_plugin_monitor(_write(tmp_path, text))
    assert config.name == "second"  # a later key wins
    assert (config.interval, config.timeout, config.concurrency) == (7.0, 5.0, 1)
    assert config.rules[0].args == ()


def test_ignored_settings_are_warned_about(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    _plugin(tmp_path, "plain.sh", executable=False)
    doc = _ntp(plugin)
    del doc["source"]
    doc["conditions"][0]["status"] = "True"
    doc["rules"].append(
        {"type": "temporary", "condition": "NTPProblem", "reason": "T", "path": str(plugin)}
    )
    doc["rules"].append({"type": "temporary", "reason": "P", "path": str(tmp_path / "plain.sh")})
    config = load_npd_custom_plugin_monitor(_write(tmp_path, doc, "ntp.json"))
    assert config.name == "ntp"
    text = "\n".join(config.warnings)
    assert "source: missing; using 'ntp'" in text
    assert "conditions[0].status: ignored" in text
    assert "rules[1].condition: ignored on a temporary rule" in text
    assert "rules[2].path" in text and "not an executable file" in text
    assert config.rules[1].condition is None
    assert [r.name for r in config.rules] == ["NTPIsDown", "T", "P"]


def test_repeated_reasons_get_numbered_rule_names(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path)
    doc = _ntp(plugin)
    doc["rules"] = [dict(doc["rules"][0]) for _ in range(3)]
    config = load_npd_custom_plugin_monitor(_write(tmp_path, doc))
    assert [r.name for r in config.rules] == ["NTPIsDown", "NTPIsDown#2", "NTPIsDown#3"]


def _broken(doc: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    """``doc`` with ``value`` put at ``where`` (``a.b``, ``rules.0.timeout``); None deletes."""
    *parents, last = where.split(".")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is None:
        del target[key]
    else:
        target[key] = value
    return doc


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        ("plugin", "kmsg", r'plugin: must be "custom" .*\(got \'kmsg\'\)'),
        ("plugin", None, r"plugin: must be \"custom\""),
        ("plugin", 3, r"plugin: expected a string \(got 3\)"),
        ("pluginConfig", "fast", r"pluginConfig: expected an object \(got 'fast'\)"),
        ("pluginConfig.concurrency", "3", r"pluginConfig.concurrency: expected an integer"),
        ("pluginConfig.concurrency", 1.5, r"pluginConfig.concurrency: expected an integer"),
        ("pluginConfig.concurrency", 0, r"pluginConfig.concurrency: must be between 1 and"),
        ("pluginConfig.concurrency", True, r"concurrency: expected an integer \(got True\)"),
        ("pluginConfig.max_output_length", -1, r"max_output_length: must not be negative"),
        ("pluginConfig.max_output_length", 2**70, r"max_output_length: integer out of range"),
        ("pluginConfig.timeout", 5, r"pluginConfig.timeout: expected a Go duration string"),
        ("pluginConfig.timeout", "-5s", r"pluginConfig.timeout: negative duration '-5s'"),
        ("pluginConfig.timeout", "0s", r"pluginConfig.timeout: must be greater than zero"),
        ("pluginConfig.timeout", "5 seconds", r"pluginConfig.timeout: .*\(got '5 seconds'\)"),
        ("pluginConfig.invoke_interval", "0", r"invoke_interval: must be greater than zero"),
        ("pluginConfig.invoke_interval", "-1m", r"invoke_interval: negative duration"),
        (
            "pluginConfig.enable_message_change_based_condition_update",
            "yes",
            r"enable_message_change_based_condition_update: expected true or false",
        ),
        ("pluginConfig.speed", "fast", r"pluginConfig.speed: unknown key .*\(got 'fast'\)"),
        ("extra", 1, r"extra: unknown key"),
        ("metricsReporting", "true", r"metricsReporting: expected true or false"),
        ("source", ["a"], r"source: expected a string"),
        ("conditions", {}, r"conditions: expected a list of objects"),
        ("conditions.0", "NTPProblem", r"conditions\[0\]: expected an object"),
        ("conditions.0.type", 1, r"conditions\[0\].type: expected a string"),
        ("conditions.0.severity", "x", r"conditions\[0\].severity: unknown key"),
        ("conditions.0.type", "", r"conditions\[0\].type: must not be empty"),
        ("rules", "all", r"rules: expected a list of objects"),
        ("rules.0.type", "sometimes", r"rules\[0\].type: must be temporary or permanent"),
        ("rules.0.reason", "", r"rules\[0\].reason: must not be empty"),
        ("rules.0.condition", "Other", r"rules\[0\].condition: .*declared conditions"),
        ("rules.0.condition", None, r"rules\[0\].condition: .*\(got ''\)"),
        ("rules.0.timeout", "6s", r"rules\[0\].timeout: must not exceed the monitor's timeout"),
        ("rules.0.timeout", "-1s", r"rules\[0\].timeout: negative duration"),
        ("rules.0.timeout", "0s", r"rules\[0\].timeout: must be greater than zero"),
        ("rules.0.timeout", 3, r"rules\[0\].timeout: expected a Go duration string"),
        ("rules.0.invoke_interval", "0s", r"rules\[0\].invoke_interval: must be greater"),
        ("rules.0.args", "--all", r"rules\[0\].args: expected a list of strings"),
        ("rules.0.args", ["-a", 2], r"rules\[0\].args\[1\]: expected a string"),
        ("rules.0.path", "/nonexistent/plugin.sh", r"rules\[0\].path: plugin not found"),
        ("rules.0.path", "", r"rules\[0\].path: must name the plugin"),
        ("rules.0.pattern", "x", r"rules\[0\].pattern: unknown key"),
    ],
)
def test_bad_values_name_the_file_field_and_value(
    tmp_path: Path, where: str, value: Any, expected: str
) -> None:
    path = _write(tmp_path, _broken(_ntp(_plugin(tmp_path)), where, value))
    with pytest.raises(ConfigError, match=expected) as caught:
        load_npd_custom_plugin_monitor(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_duplicate_condition_type_is_refused(tmp_path: Path) -> None:
    doc = _ntp(_plugin(tmp_path))
    doc["conditions"].append(dict(doc["conditions"][0]))
    with pytest.raises(ConfigError, match=r"conditions\[1\].type: duplicate condition type"):
        load_npd_custom_plugin_monitor(_write(tmp_path, doc))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"plugin": "custom",}', r":1:\d+: invalid JSON"),
        ("[1, 2]", r"must be a JSON object, got list"),
        ('{"plugin": NaN}', r"NaN is not valid JSON"),
        ("", r"invalid JSON"),
        ("[" * 100_000 + "]" * 100_000, r"nested too deeply|invalid JSON"),
    ],
)
def test_not_json_or_not_an_object_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_npd_custom_plugin_monitor(_write(tmp_path, text))


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_npd_custom_plugin_monitor(tmp_path / "missing.json")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_npd_custom_plugin_monitor(binary)
