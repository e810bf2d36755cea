"""Our YAML form of a plugin monitor (a ``plugin_monitors:`` entry): values, defaults, errors.

Errors must name the file and the line of the offending field, its path
(``plugin_monitors[0].rules[1].timeout``) and the bad value.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.pluginmonitor.config import PluginMonitorConfig, build_plugin_monitor


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    path = tmp_path / "check.sh"
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _load(tmp_path: Path, text: str, index: int = 0) -> PluginMonitorConfig:
    path = tmp_path / "agent.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    return build_plugin_monitor(
        data["plugin_monitors"][index],
        source=str(path),
        lines=lines,
        prefix=f"plugin_monitors[{index}]",
    )


def test_every_setting_is_read(tmp_path: Path, plugin: Path) -> None:
    config = _load(
        tmp_path,
        f"""
        plugin_monitors:
          - name: ntp
            interval: 1m
            timeout: 10s
            max_output_length: 120
            concurrency: 2
            message_change_updates: true
            skip_initial_status: true
            metrics_reporting: false
            conditions:
              - {{type: NTPProblem, reason: NTPIsUp, message: ntp service is up}}
            rules:
              - {{type: permanent, condition: NTPProblem, reason: NTPIsDown, path: {plugin},
                 args: [--strict, "-v"], timeout: 3s, interval: 500ms}}
              - {{type: temporary, reason: NTPDrift, path: {plugin}}}
        """,
    )
    assert (config.name, config.interval, config.timeout) == ("ntp", 60.0, 10.0)
    assert (config.max_output_length, config.concurrency) == (120, 2)
    assert config.message_change_updates and config.skip_initial_status
    assert not config.metrics_reporting
    first, second = config.rules
    assert first.argv == (str(plugin), "--strict", "-v")
    assert (first.timeout, first.interval, first.condition) == (3.0, 0.5, "NTPProblem")
    assert (second.kind, second.timeout, second.interval) == ("temporary", 10.0, 60.0)
    assert config.origin.endswith("agent.yaml (plugin_monitors[0])")
    assert config.state_key == ""


def test_defaults_follow_node_problem_detector(tmp_path: Path, plugin: Path) -> None:
    config = _load(
        tmp_path,
        f"""
        plugin_monitors:
          - name: minimal
            rules: [{{type: temporary, reason: Boom, path: {plugin}}}]
        """,
    )
    assert (config.interval, config.timeout, config.max_output_length, config.concurrency) == (
        30.0,
        5.0,
        80,
        3,
    )
    assert config.conditions == ()


GOOD_RULE = "{type: permanent, condition: C, reason: R, path: PLUGIN}"


@pytest.mark.parametrize(
    ("entry", "line", "expected"),
    [
        ("interval: -5s", 3, r"plugin_monitors\[0\].interval: .* not be negative \(got '-5s'\)"),
        ("interval: -2", 3, r"plugin_monitors\[0\].interval: .* not be negative \(got -2\)"),
        ("interval: 0", 3, r"plugin_monitors\[0\].interval: must be greater than zero"),
        ("timeout: soon", 3, r"plugin_monitors\[0\].timeout: expected a duration .*'soon'"),
        ("timeout: true", 3, r"plugin_monitors\[0\].timeout: "),
        ("concurrency: many", 3, r"plugin_monitors\[0\].concurrency: Expected `int`"),
        ("concurrency: 0", 3, r"plugin_monitors\[0\].concurrency: must be between 1 and"),
        ("max_output_length: -3", 3, r"max_output_length: must not be negative \(got -3\)"),
        ("skip_initial_status: maybe", 3, r"skip_initial_status: Expected `bool`"),
        ("speed: fast", 3, r"plugin_monitors\[0\].speed: unknown key .*\(got 'fast'\)"),
        (
            "conditions: [{type: C, reason: R, colour: red}]",
            3,
            r"plugin_monitors\[0\].conditions\[0\].colour: unknown key .*\(got 'red'\)",
        ),
        ("conditions: [{type: '', reason: R}]", 3, r"conditions\[0\].type: must not be empty"),
    ],
)
def test_bad_monitor_settings_name_file_line_field_and_value(
    tmp_path: Path, plugin: Path, entry: str, line: int, expected: str
) -> None:
    conditions = (
        "" if entry.startswith("conditions") else "    conditions: [{type: C, reason: F}]\n"
    )
    good_rule = GOOD_RULE.replace("PLUGIN", str(plugin))
    text = (
        f"plugin_monitors:\n  - name: broken\n    {entry}\n{conditions}    rules: [{good_rule}]\n"
    )
    path = tmp_path / "agent.yaml"
    with pytest.raises(ConfigError, match=expected) as caught:
        _load(tmp_path, text)
    assert str(caught.value).startswith(f"{path}:{line}:")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{type: sometimes, reason: R, path: PLUGIN}", r"rules\[0\].type: Invalid enum value"),
        ("{type: temporary, reason: R}", r"rules\[0\]: Object missing required field `path`"),
        ("{type: temporary, reason: '', path: PLUGIN}", r"rules\[0\].reason: must not be empty"),
        (
            "{type: temporary, condition: C, reason: R, path: PLUGIN}",
            r"rules\[0\].condition: only permanent rules set a condition \(got 'C'\)",
        ),
        (
            "{type: permanent, reason: R, path: PLUGIN}",
            r"rules\[0\].condition: a permanent rule's condition must be one of .*\(got ''\)",
        ),
        (
            "{type: permanent, condition: Nope, reason: R, path: PLUGIN}",
            r"rules\[0\].condition: .*declared conditions \(C\) \(got 'Nope'\)",
        ),
        (
            "{type: temporary, reason: R, path: PLUGIN, timeout: 6s}",
            r"rules\[0\].timeout: must not exceed the monitor's timeout \(5s, "
            r"plugin_monitors\[0\].timeout\) \(got '6s'\)",
        ),
        ("{type: temporary, reason: R, path: PLUGIN, timeout: -1s}", r"rules\[0\].timeout: "),
        ("{type: temporary, reason: R, path: PLUGIN, interval: 0s}", r"interval: must be greater"),
        ("{type: temporary, reason: R, path: PLUGIN, args: -v}", r"rules\[0\].args: Expected"),
        ("{type: temporary, reason: R, path: check.sh}", r"rules\[0\].path: must be an absolute"),
        ("{type: temporary, reason: R, path: /no/such/plugin}", r"path: plugin not found"),
        ("{type: temporary, reason: R, path: PLUGIN, pattern: x}", r"rules\[0\].pattern: unknown"),
    ],
)
def test_bad_rules_name_file_line_field_and_value(
    tmp_path: Path, plugin: Path, rule: str, expected: str
) -> None:
    text = f"""\
        plugin_monitors:
          - name: broken
            conditions: [{{type: C, reason: CFine}}]
            rules:
              - {rule.replace("PLUGIN", str(plugin))}
        """
    path = tmp_path / "agent.yaml"
    with pytest.raises(ConfigError, match=expected) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert message.startswith(f"{path}:5:")
    assert "plugin_monitors[0].rules[0]" in message


def test_names_must_be_given(tmp_path: Path, plugin: Path) -> None:
    with pytest.raises(ConfigError, match=r"plugin_monitors\[0\].name: must not be empty"):
        _load(tmp_path, "plugin_monitors:\n  - name: ' '\n")
    with pytest.raises(ConfigError, match=r"missing required field `name`"):
        _load(
            tmp_path,
            f"plugin_monitors:\n  - rules: [{{type: temporary, reason: R, path: {plugin}}}]\n",
        )


def test_a_standalone_entry_without_lines_names_the_source(plugin: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--flag: concurrency: must be between"):
        build_plugin_monitor({"name": "x", "concurrency": 5000}, source="--flag")
    with pytest.raises(ConfigError, match=r"^--flag: Expected `object`, got `str`"):
        build_plugin_monitor("not a mapping", source="--flag")
