"""Our YAML section and the embedded default: values in, settings out; errors that name things."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.statsmonitor.catalog import NPD_METRICS
from healthwatch.problems.statsmonitor.collectors import COLLECTORS
from healthwatch.problems.statsmonitor.config import (
    StatsMonitorConfig,
    build_stats_monitor,
    default_stats_monitor,
    load_stats_monitor_yaml,
)


def _load(tmp_path: Path, text: str) -> StatsMonitorConfig:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return load_stats_monitor_yaml(path)


def test_the_embedded_default() -> None:
    config = default_stats_monitor()
    assert config.enabled
    assert (config.interval, config.timeout) == (10.0, 5.0)
    assert config.options.collectors == frozenset(COLLECTORS)
    assert set(config.metrics) == set(NPD_METRICS)
    assert config.metrics["disk/bytes_used"] == "disk_bytes_used"
    assert [(t.key, t.condition, t.set_at, t.clear_at) for t in config.thresholds] == [
        ("memory_available_percent", "MemoryPressure", 10, 15),
        ("disk_used_percent", "DiskPressure", 90, 85),
        ("inodes_used_percent", "DiskPressure", 90, 85),
        ("pids_used_percent", "PIDPressure", 90, 85),
        ("conntrack_used_percent", "ConntrackFull", 90, 80),
    ]
    assert [(c.type, c.reason) for c in config.conditions] == [
        ("MemoryPressure", "NoMemoryPressure"),
        ("DiskPressure", "NoDiskPressure"),
        ("PIDPressure", "NoPIDPressure"),
        ("ConntrackFull", "ConntrackAvailable"),
    ]
    assert config.options.exclude_devices is not None
    assert config.options.exclude_devices.search("loop3")


def test_a_full_section(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        """\
agent: {listen: "127.0.0.1:1"}
stats_monitor:
  name: stats
  interval: 30s
  timeout: 2s
  collectors: [memory, disk]
  metrics: [memory/bytes_used, disk/percent_used]
  exclude_interfaces: "^veth"
  thresholds:
    memory_available_percent: {below: 5}
    disk_used_percent: {above: 95, clear_below: 90, mounts: ["/", "/var/lib/"], samples: 3}
    inodes_used_percent: false
    pids_used_percent: true
    conntrack_used_percent: true
""",
    )
    assert config.name == "stats"
    assert (config.interval, config.timeout) == (30.0, 2.0)
    assert config.metrics == {
        "memory/bytes_used": "memory_bytes_used",
        "disk/percent_used": "disk_percent_used",
    }
    thresholds = {t.key: t for t in config.thresholds}
    assert set(thresholds) == {"memory_available_percent", "disk_used_percent"}  # collectors off
    assert (
        thresholds["memory_available_percent"].set_at,
        thresholds["memory_available_percent"].clear_at,
    ) == (5, 10)
    disk = thresholds["disk_used_percent"]
    assert (disk.set_at, disk.clear_at, disk.samples, disk.mounts) == (95, 90, 3, ("/", "/var/lib"))
    assert config.options.watch_paths == ("/", "/var/lib")


def test_custom_condition_and_reason(tmp_path: Path) -> None:
    config = build_stats_monitor(
        {
            "thresholds": {
                "conntrack_used_percent": {"condition": "ConntrackPressure", "reason": "TableFull"}
            }
        },
        source="inline",
    )
    assert [(c.type, c.reason) for c in config.conditions][-1] == (
        "ConntrackPressure",
        "NoConntrackPressure",
    )
    assert config.thresholds[-1].reason == "TableFull"


def test_an_empty_section_and_off() -> None:
    assert build_stats_monitor(None, source="x").interval == 10.0
    assert not build_stats_monitor({"enabled": False}, source="x").enabled
    assert build_stats_monitor({"interval": "2s"}, source="x").timeout == 2.0


CASES = [
    ("  intervall: 10s\n", 2, "", "Object contains unknown field `intervall`"),
    ("  interval: -5s\n", 2, "interval", "expected a duration like '300ms'"),
    ("  interval: -5\n", 2, "interval", "duration out of range (0 to 10 years): -5"),
    ("  interval: 500ms\n", 2, "interval", "must be from 1s to 24h (got '500ms')"),
    ("  interval: [1]\n", 2, "interval", "got `array`"),
    (
        "  interval: 10s\n  timeout: 30s\n",
        3,
        "timeout",
        "must not be above the interval (10s) (got '30s')",
    ),
    ("  timeout: 0s\n", 2, "timeout", "must be above 0s (got '0s')"),
    ("  enabled: maybe\n", 2, "enabled", "Expected `bool`, got `str` (got 'maybe')"),
    ("  name: ' '\n", 2, "name", "must not be empty"),
    (
        "  collectors: [cpu, gpu]\n",
        2,
        "collectors[1]",
        "one of cpu, memory, disk, net, host, pids, conntrack, listed once (got 'gpu')",
    ),
    (
        "  metrics: [disk/nope]\n",
        2,
        "metrics[0]",
        "not a node-problem-detector system-stats metric (got 'disk/nope')",
    ),
    (
        "  collectors: [cpu]\n  metrics: [disk/io_time]\n",
        3,
        "metrics[0]",
        "needs the disk collector, which is off (got 'disk/io_time')",
    ),
    ("  exclude_devices: '('\n", 2, "exclude_devices", "invalid regex"),
    (
        "  thresholds:\n    memory_available_percent: {below: x}\n",
        3,
        "thresholds.memory_available_percent.below",
        "Expected `float | null`, got `str` (got 'x')",
    ),
    (
        "  thresholds:\n    memory_available_percent: {above: 20}\n",
        3,
        "thresholds.memory_available_percent.above",
        "memory_available_percent takes below/clear_above (got 20",
    ),
    (
        "  thresholds:\n    disk_used_percent: {above: 80, clear_below: 85}\n",
        3,
        "thresholds.disk_used_percent.clear_below",
        "must not be above the setting mark 80 (got 85",
    ),
    (
        "  thresholds:\n    disk_used_percent: {above: 120}\n",
        3,
        "thresholds.disk_used_percent.above",
        "must be a percentage from 0 to 100 (got 120",
    ),
    (
        "  thresholds:\n    disk_used_percent: {above: 90, clear_bleow: 85}\n",
        3,
        "thresholds.disk_used_percent",
        "Object contains unknown field `clear_bleow`",
    ),
    (
        "  thresholds:\n    pids_used_percent: {samples: 0}\n",
        3,
        "thresholds.pids_used_percent.samples",
        "must be from 1 to 100 (got 0)",
    ),
    (
        "  thresholds:\n    pids_used_percent: {mounts: [/]}\n",
        3,
        "thresholds.pids_used_percent.mounts",
        "pids_used_percent is not per mount",
    ),
    (
        "  thresholds:\n    disk_used_percent: {mounts: [var]}\n",
        3,
        "thresholds.disk_used_percent.mounts[0]",
        "an absolute path, listed once (got 'var')",
    ),
    (
        "  thresholds:\n    disk_used_percent: {condition: 'Disk Full'}\n",
        3,
        "thresholds.disk_used_percent.condition",
        "must be a CamelCase word (got 'Disk Full')",
    ),
    (
        "  thresholds:\n    swap_used_percent: {above: 1}\n",
        3,
        "thresholds",
        "Object contains unknown field `swap_used_percent`",
    ),
    (
        "  collectors: [cpu]\n  thresholds:\n    disk_used_percent: {above: 95}\n",
        4,
        "thresholds.disk_used_percent",
        "needs the disk collector, which is off",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "problem"), CASES)
def test_errors_name_file_line_field_and_value(
    tmp_path: Path, text: str, line: int, field: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "stats_monitor:\n" + text)
    message = str(caught.value)
    label = f"stats_monitor.{field}" if field else "stats_monitor"
    assert message.startswith(f"{tmp_path / 'agent.yaml'}:{line}: {label}: ")
    assert problem in message


def test_the_section_inside_a_bigger_file_keeps_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("agent:\n  node_name: n\n\nstats_monitor:\n  interval: 0s\n")
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    with pytest.raises(ConfigError, match=r"agent.yaml:5: stats_monitor.interval: must be from 1s"):
        build_stats_monitor(
            data["stats_monitor"], source=str(path), lines=lines, prefix="stats_monitor"
        )


def test_a_file_without_the_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no stats_monitor section"):
        _load(tmp_path, "agent: {}\n")
