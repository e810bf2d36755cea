"""Our YAML log monitors: packs, extensions, and errors that name file, line, field and value."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import msgspec
import pytest

from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.base import ProblemDeclaration
from healthwatch.problems.logmonitor.config import (
    LogMonitorSpec,
    build_log_monitor,
    build_log_monitors,
    load_any,
    load_log_monitor_yaml,
)
from healthwatch.problems.logmonitor.packs import load_pack
from healthwatch.problems.logmonitor.rules import RuleEngine

AGENT_FILE = """\
agent:
  listen: 127.0.0.1:9800
log_monitors:
  - name: kernel
    packs: [kernel]
    lookback: 5m
    conditions:
      - type: KernelDeadlock
        reason: KernelHasNoDeadlock
        message: our own wording
    rules:
      - type: recovery
        condition: KernelDeadlock
        reason: DockerRecovered
        pattern: 'docker: daemon restarted'
      - type: permanent
        condition: KernelDeadlock
        reason: ShimHung
        pattern: 'task containerd-shim:\\d+ blocked for more than \\d+ seconds\\.'
        clear_after: 1h
        severity: warn
        action: restart containerd
  - name: app-log
    source: file
    path: /var/log/app.log
    timestamp:
      regex: '^(\\S+)'
      format: '2006-01-02T15:04:05Z07:00'
    message: '^\\S+ (.*)'
    skip_list: [DEBUG]
    buffer_size: 3
    lookback: 90
    metrics_reporting: false
    rules:
      - type: temporary
        reason: AppPanic
        pattern: 'panic: (?P<what>\\w+).*'
        labels: [what]
        severity: info
  - name: runtime
    source: journald
    identifiers: [dockerd, containerd]
    packs: [container-runtime]
"""


def write(tmp_path: Path, text: str, name: str = "healthwatch.yaml") -> Path:
    file = tmp_path / name
    file.write_text(text)
    return file


def test_a_log_monitors_section_builds_every_monitor(tmp_path: Path) -> None:
    kernel, app, runtime = load_log_monitor_yaml(write(tmp_path, AGENT_FILE))
    assert (kernel.name, kernel.source, kernel.path, kernel.lookback) == (
        "kernel",
        "kmsg",
        "/dev/kmsg",
        300.0,
    )
    assert (app.source, app.path, app.buffer_size, app.lookback) == (
        "file",
        "/var/log/app.log",
        3,
        90.0,
    )
    assert (runtime.source, runtime.path, runtime.identifiers) == (
        "journald",
        None,
        ("dockerd", "containerd"),
    )
    assert app.skip_list == ("DEBUG",)
    assert app.metrics_reporting is False
    assert kernel.origin.endswith("(log_monitors[0])")


def test_pack_rules_come_first_and_own_conditions_override_the_packs(tmp_path: Path) -> None:
    kernel = load_log_monitor_yaml(write(tmp_path, AGENT_FILE))[0]
    pack_conditions, pack_rules = load_pack("kernel")
    assert kernel.rules[: len(pack_rules)] == pack_rules
    assert [r.reason for r in kernel.rules[len(pack_rules) :]] == ["DockerRecovered", "ShimHung"]
    assert [c.type for c in kernel.conditions] == [c.type for c in pack_conditions]
    deadlock = next(c for c in kernel.conditions if c.type == "KernelDeadlock")
    assert deadlock.message == "our own wording"


def test_our_extensions_are_carried_through(tmp_path: Path) -> None:
    kernel, app, _ = load_log_monitor_yaml(write(tmp_path, AGENT_FILE))
    recovery, shim = kernel.rules[-2:]
    assert (recovery.kind, recovery.condition) == ("recovery", "KernelDeadlock")
    assert (shim.clear_after, shim.action) == (3600.0, "restart containerd")
    (panic,) = app.rules
    assert (panic.severity, panic.labels) == ("info", ("what",))
    line = "2024-03-05T10:00:00Z panic: nil pointer dereference"
    message = app.extract_message(line)
    assert message == "panic: nil pointer dereference"
    (match,) = RuleEngine(app.ruleset).feed(message) or []
    assert match.labels == {"what": "nil"}
    assert app.parse_timestamp(line) == 1709632800.0


def test_declarations_cover_problems_not_recoveries(tmp_path: Path) -> None:
    kernel = load_log_monitor_yaml(write(tmp_path, AGENT_FILE))[0]
    declared = kernel.declarations()
    assert ProblemDeclaration(reason="ShimHung", condition="KernelDeadlock") in declared
    assert all(d.reason != "DockerRecovered" for d in declared)
    assert len(declared) == len(set(declared))
    assert [d.reason for d in declared].count("KernelOops") == 1  # four KernelOops rules


def test_a_standalone_file_may_hold_one_monitor(tmp_path: Path) -> None:
    (config,) = load_log_monitor_yaml(write(tmp_path, "name: gpu\npacks: [nvidia-xid, metax]\n"))
    assert config.name == "gpu"
    assert {c.type for c in config.conditions} == {"GPUUnhealthy", "NVSwitchUnhealthy"}


def test_build_log_monitor_takes_a_converted_spec() -> None:
    spec = msgspec.convert({"name": "k", "packs": ["kernel"], "lookback": "1h30m"}, LogMonitorSpec)
    config = build_log_monitor(spec, source="inline")
    assert (config.lookback, config.origin) == (5400.0, "inline")


def entry(body: str) -> str:
    return "log_monitors:\n  - name: m\n" + textwrap.indent(textwrap.dedent(body), "    ")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("colour: red\n", r":2: .*unknown field `colour`"),  # the entry's line
        (
            "rules:\n  - type: temporary\n    reason: R\n    pattern: 'a(b'\n",
            r":6: log_monitors\[0\]\.rules\[0\]\.pattern: invalid pattern: missing \).*\(got "
            r"'a\(b'\)",
        ),
        (
            "packs: [kernel, nope]\n",
            r"log_monitors\[0\]\.packs\[1\]: unknown rule pack 'nope'; shipped packs: "
            r"container-runtime, kernel",
        ),
        ("packs: [kernel, kernel]\n", r"packs\[1\]: pack listed twice"),
        (
            "rules:\n  - type: temporary\n    condition: X\n    reason: R\n    pattern: x\n",
            r"rules\[0\]\.condition: only permanent and recovery rules",
        ),
        (
            "rules:\n  - type: temporary\n    reason: R\n    pattern: x\n    clear_after: 5m\n",
            r"rules\[0\]\.clear_after: only permanent rules",
        ),
        (
            "conditions: [{type: C, reason: ok}]\nrules:\n  - type: permanent\n    condition: C\n  "
            "  reason: R\n    pattern: x\n    clear_after: soon\n",
            r"rules\[0\]\.clear_after: expected a duration",
        ),
        (
            "rules:\n  - type: recovery\n    condition: Missing\n    reason: R\n    pattern: x\n",
            r"rules\[0\]\.condition: condition is not declared",
        ),
        (
            "rules:\n  - type: temporary\n    reason: R\n    pattern: '(?P<a>x)'\n    labels: "
            "[b]\n",
            r"rules\[0\]\.labels: 'b' is not a named group",
        ),
        (
            "rules:\n  - type: temporary\n    reason: ' '\n    pattern: x\n",
            r"rules\[0\]\.reason: must not be empty",
        ),
        (
            "rules:\n  - type: sometimes\n    reason: R\n    pattern: x\n",
            r"Expected `str` matching regex|Invalid enum value 'sometimes'",
        ),
        (
            "timestamp: {regex: x, format: Jan}\n",
            r"log_monitors\[0\]\.timestamp: only a file source uses it, not kmsg",
        ),
        ("source: file\n", r"log_monitors\[0\]\.path: a file source needs"),
        (
            "source: file\npath: /x\ntimestamp: {regex: '^.{15}', format: '2006-002'}\n",
            r"timestamp\.format: .*day-of-year",
        ),
        (
            "source: file\npath: /x\ntimestamp: {regex: '(', format: 'Jan _2'}\n",
            r"timestamp\.regex: invalid regex",
        ),
        ("source: file\npath: /x\nmessage: '[x'\n", r"log_monitors\[0\]\.message: invalid regex"),
        ("identifiers: [kernel]\n", r"identifiers: only a journald source uses it"),
        ("skip_list: [x]\n", r"skip_list: only a file source uses it"),
        ("buffer_size: 0\n", r"buffer_size: must be between 1 and 10000 \(got 0\)"),
        ("lookback: -5m\n", r"lookback: expected a duration"),
        (
            "conditions: [{type: A, reason: r}, {type: A, reason: s}]\n",
            r"conditions\[1\]\.type: duplicate condition type",
        ),
    ],
)
def test_errors_name_file_line_field_and_value(tmp_path: Path, body: str, expected: str) -> None:
    file = write(tmp_path, entry(body))
    with pytest.raises(ConfigError, match=expected) as caught:
        load_log_monitor_yaml(file)
    assert str(caught.value).startswith(str(file))


def test_an_empty_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"log_monitors\[0\]\.name: must not be empty"):
        load_log_monitor_yaml(write(tmp_path, "log_monitors:\n  - name: ''\n"))


@pytest.mark.parametrize("text", ["- name: a\n", "just text\n", "42\n"])
def test_other_top_levels_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="expected a log monitor mapping"):
        load_log_monitor_yaml(write(tmp_path, text))


def test_load_any_tells_npd_json_from_our_yaml(tmp_path: Path) -> None:
    npd = {"plugin": "kmsg", "source": "npd-kernel", "rules": []}
    (from_npd,) = load_any(write(tmp_path, json.dumps(npd), "npd.json"))
    assert from_npd.name == "npd-kernel"
    (as_json,) = load_any(
        write(tmp_path, json.dumps({"name": "ours", "lookback": 60}), "ours.json")
    )
    assert (as_json.name, as_json.lookback) == ("ours", 60.0)
    monitors = load_any(write(tmp_path, AGENT_FILE))
    assert [m.name for m in monitors] == ["kernel", "app-log", "runtime"]
    (lower,) = load_any(write(tmp_path, '{"Rules": [], "Plugin": "kmsg"}', "case.json"))
    assert lower.source == "kmsg"


def test_load_any_reports_json_syntax_with_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bad\.json:2:21: invalid JSON"):
        load_any(write(tmp_path, '{"plugin": "kmsg",\n "rules": [{"a": 1},]}', "bad.json"))


def test_build_log_monitors_takes_the_raw_section_of_an_agent_file(tmp_path: Path) -> None:
    file = write(tmp_path, AGENT_FILE)
    data, lines = load_yaml(file)
    assert isinstance(data, dict)
    monitors = build_log_monitors(data["log_monitors"], source=str(file), lines=lines)
    assert [m.name for m in monitors] == ["kernel", "app-log", "runtime"]
    broken = [*data["log_monitors"][:2], {"name": "x", "buffer_size": 0}]
    with pytest.raises(ConfigError, match=r":\d+: log_monitors\[2\]\.buffer_size: must be"):
        build_log_monitors(broken, source=str(file), lines=lines)


def test_monitor_names_are_unique(tmp_path: Path) -> None:
    text = "log_monitors:\n  - name: a\n  - name: b\n  - name: a\n"
    with pytest.raises(
        ConfigError, match=r":4: log_monitors\[2\]\.name: also the name of log_monitors\[0\]"
    ):
        load_log_monitor_yaml(write(tmp_path, text))


def test_log_monitors_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="log_monitors: expected a list"):
        load_log_monitor_yaml(write(tmp_path, "log_monitors: {name: a}\n"))
