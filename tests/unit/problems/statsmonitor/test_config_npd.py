"""node-problem-detector's system-stats-monitor JSON: loaded unchanged, refused naming fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthwatch.model.errors import ConfigError
from healthwatch.problems.statsmonitor.config import load_npd_system_stats_monitor
from healthwatch.problems.statsmonitor.npd import parse_go_duration


def _metrics(*ids: str) -> dict[str, object]:
    return {"metricsConfigs": {i: {"displayName": i} for i in ids}}


SHIPPED = {
    "cpu": _metrics(
        "cpu/load_15m",
        "cpu/load_1m",
        "cpu/load_5m",
        "cpu/runnable_task_count",
        "cpu/usage_time",
        "system/cpu_stat",
        "system/interrupts_total",
        "system/processes_total",
        "system/procs_blocked",
        "system/procs_running",
    ),
    "disk": {
        "includeAllAttachedBlk": True,
        "includeRootBlk": True,
        "lsblkTimeout": "5s",
        **_metrics("disk/avg_queue_len", "disk/bytes_used", "disk/io_time"),
    },
    "host": _metrics("host/uptime"),
    "invokeInterval": "60s",
    "memory": _metrics("memory/anonymous_used", "memory/bytes_used"),
    "osFeature": {
        "KnownModulesConfigPath": "guestosconfig/known-modules.json",
        **_metrics("system/os_feature"),
    },
}


def _write(tmp_path: Path, data: object, name: str = "system-stats-monitor.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_the_shipped_layout_loads_unchanged(tmp_path: Path) -> None:
    config = load_npd_system_stats_monitor(_write(tmp_path, SHIPPED))
    assert config.name == "system-stats-monitor"
    assert (config.interval, config.timeout) == (60.0, 5.0)
    assert config.options.collectors == {"cpu", "disk", "host", "memory"}
    assert config.options.include_root_blk and config.options.include_attached_blk
    assert config.metrics["cpu/load_15m"] == "cpu_load_15m"
    assert config.metrics["system/cpu_stat"] == "system_cpu_stat"
    assert "system/os_feature" not in config.metrics
    assert config.thresholds == () and config.conditions == ()  # NPD's monitor sets none
    assert config.proc_path is None
    assert any("system/os_feature" in w and "not collected" in w for w in config.warnings)


def test_display_names_keys_in_any_case_and_unknown_keys(tmp_path: Path) -> None:
    data = {
        "CPU": {"MetricsConfigs": {"cpu/load_1m": {"DisplayName": "node/load one"}}},
        "net": {
            "excludeInterfaceRegexp": "^(veth|cali)",
            "metricsConfigs": {"net/rx_bytes": {"displayName": "net/rx_bytes"}},
        },
        "invokeinterval": "1m30s",
        "procPath": "/host/proc",
        "extra": 1,
        "memory": None,
    }
    config = load_npd_system_stats_monitor(_write(tmp_path, data, "stats.json"))
    assert config.name == "stats"
    assert config.metrics == {"cpu/load_1m": "node_load_one", "net/rx_bytes": "net_rx_bytes"}
    assert config.interval == 90.0
    assert config.proc_path == "/host/proc"
    pattern = config.options.exclude_interfaces
    assert pattern is not None and pattern.search("veth12")
    assert config.options.collectors == {"cpu", "net"}
    assert config.warnings == ("extra: unknown key ignored (as node-problem-detector does)",)


def test_misplaced_unknown_and_unnamed_metrics_are_ignored_with_warnings(tmp_path: Path) -> None:
    data = {
        "cpu": {
            "metricsConfigs": {
                "memory/bytes_used": {"displayName": "memory/bytes_used"},
                "cpu/nope": {"displayName": "x"},
                "cpu/load_5m": {"displayName": ""},
                "cpu/load_1m": {"displayName": "cpu/load_1m"},
            }
        }
    }
    config = load_npd_system_stats_monitor(_write(tmp_path, data))
    assert config.metrics == {"cpu/load_1m": "cpu_load_1m"}
    assert len(config.warnings) == 3
    assert (
        "cpu.metricsConfigs.memory/bytes_used: not a metric of the cpu section"
        in config.warnings[0]
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"invokeInterval": 60}, "invokeInterval: expected a Go duration string (got 60)"),
        ({"invokeInterval": "-5s"}, "invokeInterval: must be above 0s (got '-5s')"),
        ({"invokeInterval": "0s"}, "invokeInterval: must be above 0s (got '0s')"),
        ({"invokeInterval": "10"}, "invokeInterval: invalid Go duration '10' (got '10')"),
        ({"invokeInterval": "1d"}, "invokeInterval: invalid Go duration '1d'"),
        ({"invokeInterval": "500ms"}, "invokeInterval: must be at least 1s (got '500ms')"),
        (
            {"invokeInterval": "10s", "disk": {"lsblkTimeout": "30s"}},
            "disk.lsblkTimeout: must not be above invokeInterval (10s) (got '30s')",
        ),
        (
            {"invokeInterval": "2s"},
            "disk.lsblkTimeout: must not be above invokeInterval (2s) (got '5s')",
        ),
        ({"disk": {"lsblkTimeout": "-1s"}}, "disk.lsblkTimeout: must be above 0s (got '-1s')"),
        (
            {"disk": {"includeRootBlk": "yes"}},
            "disk.includeRootBlk: expected true or false (got 'yes')",
        ),
        ({"cpu": []}, "cpu: expected an object (got [])"),
        ({"cpu": {"metricsConfigs": []}}, "cpu.metricsConfigs: expected an object (got [])"),
        (
            {"cpu": {"metricsConfigs": {"cpu/load_1m": "cpu/load_1m"}}},
            "cpu.metricsConfigs.cpu/load_1m: expected an object (got 'cpu/load_1m')",
        ),
        (
            {"cpu": {"metricsConfigs": {"cpu/load_1m": {"displayName": 1}}}},
            "cpu.metricsConfigs.cpu/load_1m.displayName: expected a string (got 1)",
        ),
        (
            {
                "cpu": {
                    "metricsConfigs": {
                        "cpu/load_1m": {"displayName": "load"},
                        "cpu/load_5m": {"displayName": "load"},
                    }
                }
            },
            "cpu.metricsConfigs.cpu/load_5m.displayName: same metric name as "
            "cpu.metricsConfigs.cpu/load_1m (got 'load')",
        ),
        ({"net": {"excludeInterfaceRegexp": "("}}, "net.excludeInterfaceRegexp: invalid regexp"),
        ({"procPath": "proc"}, "procPath: must be an absolute path (got 'proc')"),
        ({"procPath": 1}, "procPath: expected a string (got 1)"),
        ("[1, 2]", "must be a JSON object, got list"),
        ('{"invokeInterval": "60s",}', ":1:26: invalid JSON"),
        ('{"invokeInterval": NaN}', "invalid JSON: NaN is not valid JSON"),
    ],
)
def test_bad_values_name_file_field_and_value(tmp_path: Path, data: object, expected: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_npd_system_stats_monitor(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_npd_system_stats_monitor(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60s", 60.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("300ms", 0.3),
        ("0", 0.0),
        ("-2s", -2.0),
        ("+1us", 1e-6),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "10", "1d", "1 s", "1s2", "--1s"])
def test_not_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid Go duration"):
        parse_go_duration(text)
