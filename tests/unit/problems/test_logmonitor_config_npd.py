"""node-problem-detector's system-log-monitor JSON loads unchanged, and bad files say what is wrong.

The fixtures follow, one for one, the system-log-monitor files NPD ships in its
``config/`` directory (the ``*-counter.json`` and other custom-plugin files are
a different kind of config), written with our own patterns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from healthwatch.config.yamlfile import MAX_CONFIG_BYTES
from healthwatch.model.errors import ConfigError
from healthwatch.problems.base import ProblemDeclaration
from healthwatch.problems.logmonitor.config import load_npd_system_log_monitor
from healthwatch.problems.logmonitor.rules import RuleEngine

FIXTURES = Path(__file__).parent / "logmonitor_fixtures"
KERNEL_LINE = (
    "Nov 21 23:30:13 node-1 kernel: [ 438.123456] task java:77 blocked for more than 120 seconds."
)


class Shape(NamedTuple):
    """One fixture and what loading it must give."""

    name: str
    source: str
    path: str
    monitor: str
    counts: tuple[int, int]
    line: str
    reason: str | None


@pytest.mark.parametrize(
    "shape",
    [
        Shape(
            "kernel-monitor",
            "kmsg",
            "/dev/kmsg",
            "kernel-monitor",
            (3, 7),
            "XFS (dm-0): Corruption detected. Shutting down filesystem",
            "XfsHasShutdown",
        ),
        Shape(
            "kernel-monitor-filelog",
            "file",
            "/var/log/kern.log",
            "kernel-monitor",
            (1, 3),
            KERNEL_LINE,
            "TaskHung",
        ),
        Shape(
            "docker-monitor",
            "journald",
            "/var/log/journal",
            "docker-monitor",
            (1, 2),
            "readlink /var/lib/docker/overlay2/l/abc: invalid argument",
            "CorruptDockerOverlay2",
        ),
        Shape(
            "docker-monitor-filelog",
            "file",
            "/var/log/docker.log",
            "docker-monitor",
            (0, 0),
            'time="2016-08-30T22:57:40.123456789-07:00" level=info msg="API listen on '
            '/var/run/docker.sock"',
            None,
        ),
        Shape(
            "systemd-monitor",
            "journald",
            "/var/log/journal",
            "systemd-monitor",
            (0, 2),
            "Started kubelet.service - Kubernetes kubelet.",
            "KubeletStart",
        ),
        Shape(
            "readonly-monitor",
            "kmsg",
            "/dev/kmsg",
            "readonly-monitor",
            (1, 1),
            "EXT4-fs (sda1): Remounting filesystem read-only",
            "FilesystemIsReadOnly",
        ),
        Shape(
            "abrt-adaptor",
            "journald",
            "/var/log/journal",
            "abrt-adaptor",
            (0, 2),
            "Process 4242 (python3) crashed in foo()",
            "CCPPCrash",
        ),
        Shape(
            "disk-log-message-filelog",
            "file",
            "/var/log/messages",
            "disk-monitor",
            (1, 1),
            "Nov  3 01:02:03 node smartd[812]: Device: /dev/sda, 120 Currently unreadable "
            "(pending) sectors",
            "DiskBadBlock",
        ),
        Shape(
            "windows-containerd-monitor-filelog",
            "file",
            "C:\\Program Files\\containerd\\containerd.log",
            "containerd",
            (0, 2),
            'time="2024-03-05T10:00:00.5+01:00" level=error msg="hcs::CreateComputeSystem failed"',
            "IncompatibleContainer",
        ),
    ],
)
def test_every_shipped_shape_loads_unchanged(shape: Shape) -> None:
    file = FIXTURES / f"{shape.name}.json"
    config = load_npd_system_log_monitor(file)
    raw = json.loads(file.read_text())
    assert (config.source, config.path, config.name) == (shape.source, shape.path, shape.monitor)
    assert (len(config.conditions), len(config.rules)) == shape.counts
    assert config.buffer_size == raw["bufferSize"]
    assert config.lookback == {"5m": 300.0, "10h": 36000.0}[raw["lookback"]]
    assert config.warnings == ()
    assert [r.pattern for r in config.rules] == [r["pattern"] for r in raw["rules"]]
    message = config.extract_message(shape.line)
    assert message is not None
    found = RuleEngine(config.ruleset).feed(message) or []
    assert [m.rule.reason for m in found] == ([shape.reason] if shape.reason else [])


def test_filelog_lines_give_message_and_timestamp() -> None:
    config = load_npd_system_log_monitor(FIXTURES / "kernel-monitor-filelog.json")
    assert config.extract_message(KERNEL_LINE) == "task java:77 blocked for more than 120 seconds."
    assert config.timestamp_format == "Jan _2 15:04:05"
    stamp = config.parse_timestamp(KERNEL_LINE)
    assert stamp is not None
    assert config.timestamp_parser is not None
    assert stamp == config.timestamp_parser.parse("Nov 21 23:30:13")
    assert config.extract_message("a line from another program") is None
    assert config.parse_timestamp("short") is None


def test_docker_filelog_takes_the_last_submatch_as_timestamp() -> None:
    config = load_npd_system_log_monitor(FIXTURES / "docker-monitor-filelog.json")
    stamp = config.parse_timestamp('time="2016-08-30T22:57:40.5-07:00" msg="x"')
    assert stamp == pytest.approx(1472623060.5)


def test_skip_list_identifiers_and_declarations() -> None:
    disk = load_npd_system_log_monitor(FIXTURES / "disk-log-message-filelog.json")
    assert disk.skip_list == (" audit:", " audit[")
    docker = load_npd_system_log_monitor(FIXTURES / "docker-monitor.json")
    assert docker.identifiers == ("dockerd",)
    kernel = load_npd_system_log_monitor(FIXTURES / "kernel-monitor.json")
    assert kernel.metrics_reporting is True
    assert kernel.declarations()[:2] == (
        ProblemDeclaration(reason="OOMKilling"),
        ProblemDeclaration(reason="TaskHung"),
    )
    assert (
        ProblemDeclaration(reason="DockerHung", condition="KernelDeadlock") in kernel.declarations()
    )


def write(tmp_path: Path, document: object, name: str = "monitor.json") -> Path:
    file = tmp_path / name
    file.write_text(document if isinstance(document, str) else json.dumps(document))
    return file


def base(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "plugin": "kmsg",
        "source": "kernel-monitor",
        "conditions": [
            {"type": "KernelDeadlock", "reason": "KernelHasNoDeadlock", "message": "ok"}
        ],
        "rules": [
            {"type": "temporary", "reason": "TaskHung", "pattern": "task \\S+ blocked"},
            {
                "type": "permanent",
                "condition": "KernelDeadlock",
                "reason": "DockerHung",
                "pattern": "task docker:\\d+ blocked",
            },
        ],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not ...}


FILELOG = {"timestamp": "^.{15}", "message": "kernel: (.*)", "timestampFormat": "Jan _2 15:04:05"}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            base(rules=[{"type": "temporary", "reason": "Bad", "pattern": "task (\\d+"}]),
            r"rules\[0\]\.pattern: invalid pattern: missing \).*\(got 'task \(\\\\d\+'\)",
        ),
        (
            base(rules=[{"type": "temporary", "reason": "U", "pattern": "\\pL"}]),
            r"rules\[0\]\.pattern: .*Unicode",
        ),
        (base(plugin="syslog"), r"plugin: unknown plugin.*\(got 'syslog'\)"),
        (base(plugin="custom"), "custom plugin monitor config"),
        (base(plugin=...), "plugin: missing"),
        (base(plugin=5), "plugin: expected a string, got 5"),
        (base(plugin="filelog", pluginConfig=FILELOG), "logPath: the filelog plugin needs"),
        (
            base(plugin="filelog", logPath="/x", pluginConfig={**FILELOG, "timestampFormat": ""}),
            r"pluginConfig\.timestampFormat: the filelog plugin needs it",
        ),
        (
            base(
                plugin="filelog",
                logPath="/x",
                pluginConfig={**FILELOG, "timestampFormat": "2006-002"},
            ),
            r"pluginConfig\.timestampFormat: .*day-of-year",
        ),
        (
            base(plugin="filelog", logPath="/x", pluginConfig={**FILELOG, "message": "(unclosed"}),
            r"pluginConfig\.message: invalid regexp",
        ),
        (
            base(plugin="filelog", logPath="/x", pluginConfig={**FILELOG, "timestamp": 15}),
            r"pluginConfig\.timestamp: expected a string, got 15",
        ),
        (base(plugin="journald"), r"pluginConfig\.source: the journald plugin needs"),
        (
            base(rules=[{"type": "permanent", "condition": "Nope", "reason": "R", "pattern": "x"}]),
            r"rules\[0\]\.condition: condition is not declared.*KernelDeadlock.*\(got 'Nope'\)",
        ),
        (
            base(rules=[{"type": "permanent", "reason": "R", "pattern": "x"}]),
            r"rules\[0\]\.condition: a permanent rule needs a condition",
        ),
        (
            base(rules=[{"type": "temporal", "reason": "R", "pattern": "x"}]),
            r"rules\[0\]\.type: must be",
        ),
        (
            base(rules=[{"type": "temporary", "pattern": "x"}]),
            r"rules\[0\]\.reason: must not be empty",
        ),
        (
            base(rules=[{"type": "temporary", "reason": "R", "pattern": 5}]),
            r"rules\[0\]\.pattern: expected a string",
        ),
        (base(rules=["x"]), r"rules\[0\]: expected an object"),
        (base(rules={}), "rules: expected a list of objects"),
        (
            base(conditions=[{"type": "", "reason": "r"}]),
            r"conditions\[0\]\.type: must not be empty",
        ),
        (
            base(conditions=[{"type": "A", "reason": "r"}, {"type": "A", "reason": "s"}]),
            r"conditions\[1\]\.type: duplicate",
        ),
        (base(bufferSize="10"), "bufferSize: expected an integer, got '10'"),
        (base(bufferSize=10.5), "bufferSize: expected an integer"),
        (base(bufferSize=True), "bufferSize: expected an integer"),
        (base(bufferSize=0), r"bufferSize: must be between 1 and 10000 \(got 0\)"),
        (base(metricsReporting="yes"), "metricsReporting: expected true or false"),
        (base(skipList=[1]), r"skipList\[0\]: expected a string"),
        (base(pluginConfig=[]), "pluginConfig: expected an object"),
        (base(lookback="-1s"), "lookback: negative duration"),
        (base(lookback="5"), "lookback: missing unit"),
        (base(delay="1d"), "delay: unknown unit 'd'"),
        (base(lookback=300), "lookback: expected a Go duration string, got 300"),
    ],
)
def test_bad_configs_name_file_field_and_value(
    tmp_path: Path, document: object, expected: str
) -> None:
    file = write(tmp_path, document)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_npd_system_log_monitor(file)
    assert str(caught.value).startswith(str(file))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{\n\t"plugin": "kmsg",\n\t"rules": [\n\t\t{"type": "temporary"},\n\t],\n}',
            r":5:2: invalid JSON",
        ),
        ("[]", "must be a JSON object, got list"),
        ('"kmsg"', "must be a JSON object, got str"),
        ("3", "must be a JSON object, got int"),
        ("", r":1:1: invalid JSON"),
        ('{"plugin": "kmsg", "bufferSize": NaN}', "NaN is not valid JSON"),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ],
)
def test_hostile_documents_are_refused_clearly(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_npd_system_log_monitor(write(tmp_path, text))


def test_an_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    file = tmp_path / "huge.json"
    with file.open("wb") as handle:
        handle.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match="the limit is"):
        load_npd_system_log_monitor(file)


def test_unreadable_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_npd_system_log_monitor(tmp_path / "missing.json")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"plugin": "kmsg", "source": "caf\xe9"}')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_npd_system_log_monitor(latin)


def test_keys_match_as_go_matches_them(tmp_path: Path) -> None:
    document = (
        '{"Plugin": "kmsg", "SOURCE": "a", "source": "b", "BufferSize": 3, '
        '"delay": null, "lookBack": "1m"}'
    )
    config = load_npd_system_log_monitor(write(tmp_path, document))
    assert (config.name, config.buffer_size, config.delay, config.lookback) == ("b", 3, 0.0, 60.0)


def test_what_npd_ignores_is_ignored_with_a_warning(tmp_path: Path) -> None:
    document = base(
        logPath="/var/log/other",
        skipList=["x"],
        futureKey=1,
        source=...,
        rules=[
            {
                "type": "temporary",
                "condition": "KernelDeadlock",
                "reason": "R",
                "pattern": "x",
                "extra": 1,
            }
        ],
    )
    config = load_npd_system_log_monitor(write(tmp_path, document, "my-monitor.json"))
    assert config.name == "my-monitor"
    assert config.path == "/dev/kmsg"
    assert config.skip_list == ()
    assert config.rules[0].condition is None
    warned = "\n".join(config.warnings)
    for fragment in (
        "futureKey",
        "rules[0].extra",
        "logPath",
        "skipList",
        "rules[0].condition",
        "source",
    ):
        assert fragment in warned
