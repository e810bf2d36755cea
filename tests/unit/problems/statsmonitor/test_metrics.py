"""Metric families from fake-host snapshots: NPD names, labels and values; rates over two rounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.model.metrics import MetricFamily, MetricKind
from healthwatch.problems.statsmonitor.catalog import (
    NPD_METRICS,
    default_selection,
    prometheus_name,
)
from healthwatch.problems.statsmonitor.collectors import COLLECTORS, CollectOptions, collect
from healthwatch.problems.statsmonitor.npdmetrics import npd_families
from healthwatch.problems.statsmonitor.ownmetrics import own_families
from healthwatch.problems.statsmonitor.samples import Snapshot
from tests.unit.problems.statsmonitor.fakehost import DISKSTATS, NET_DEV, STAT, FakeHost

Values = dict[tuple[tuple[str, str], ...], float]


def _values(families: list[MetricFamily], name: str) -> Values:
    (family,) = [f for f in families if f.name == name]
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


def _snap(host: FakeHost, at: float) -> Snapshot:
    return collect(host.files(), CollectOptions(), monotonic=at, wall=1_700_000_000 + at)


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path / "host")


def test_names_are_npd_display_names_with_underscores() -> None:
    assert prometheus_name("cpu/load_1m") == "cpu_load_1m"
    assert prometheus_name("my metrics/disk-io.time") == "my_metrics_disk_io_time"
    assert prometheus_name("9lives") == "key_9lives"
    assert default_selection(["host"]) == {"host/uptime": "host_uptime"}
    assert len(default_selection(COLLECTORS)) == len(NPD_METRICS) == 42


def test_npd_families_carry_npd_labels_and_values(host: FakeHost) -> None:
    snap = _snap(host, 10.0)
    names = default_selection(COLLECTORS)
    families = npd_families(None, snap, names=names, labels={"node": "n1"}, user_hz=100)
    kinds = {f.name: f.kind for f in families}
    assert kinds["cpu_usage_time"] is MetricKind.UNTYPED  # NPD's name: no _total suffix
    assert kinds["system_processes_total"] is MetricKind.COUNTER
    assert kinds["cpu_load_1m"] is MetricKind.GAUGE
    assert _values(families, "cpu_load_5m") == {(("node", "n1"),): 0.4}
    assert _values(families, "cpu_runnable_task_count") == {(("node", "n1"),): 0.5}
    usage = _values(families, "cpu_usage_time")
    assert usage[(("node", "n1"), ("state", "steal"))] == 10.0
    assert usage[(("node", "n1"), ("state", "guest_nice"))] == 0.0
    cpu_stat = _values(families, "system_cpu_stat")
    assert cpu_stat[(("cpu", "cpu1"), ("node", "n1"), ("stage", "softIRQ"))] == 0.03
    assert cpu_stat[(("cpu", "cpu0"), ("node", "n1"), ("stage", "guestNice"))] == 0.0
    assert _values(families, "system_processes_total") == {(("node", "n1"),): 4242.0}
    assert _values(families, "system_procs_blocked") == {(("node", "n1"),): 1.0}
    assert _values(families, "system_interrupts_total") == {(("node", "n1"),): 12345.0}
    memory = _values(families, "memory_bytes_used")
    assert memory[(("node", "n1"), ("state", "used"))] == 500_000 * 1024
    assert memory[(("node", "n1"), ("state", "slab"))] == 100_000 * 1024
    assert (
        _values(families, "memory_dirty_used")[(("node", "n1"), ("state", "writeback"))]
        == 77 * 1024
    )
    assert _values(families, "memory_unevictable_used") == {(("node", "n1"),): 55 * 1024}
    percent = _values(families, "memory_percent_used")
    assert percent == {(("node", "n1"), ("state", "used")): pytest.approx(70.0)}
    uptime = _values(families, "host_uptime")
    assert uptime == {
        (("kernel_version", "6.1.0-test"), ("node", "n1"), ("os_version", "debian 12")): 3600.0
    }
    rx = _values(families, "net_rx_dropped")
    assert rx[(("interface_name", "eth0"), ("node", "n1"))] == 2.0
    assert _values(families, "net_tx_errors")[(("interface_name", "eth0"), ("node", "n1"))] == 4.0


def test_disk_families(host: FakeHost) -> None:
    families = npd_families(None, _snap(host, 10.0), names=default_selection(["disk"]), labels={})
    ops = _values(families, "disk_operation_count")
    assert ops[(("device_name", "sda"), ("direction", "write"))] == 200.0
    bytes_ = _values(families, "disk_operation_bytes_count")
    assert bytes_[(("device_name", "sda"), ("direction", "read"))] == 2000 * 512
    assert _values(families, "disk_io_time")[(("device_name", "sda"),)] == 700.0
    used = _values(families, "disk_bytes_used")
    root = (("device_name", "sda1"), ("fs_type", "ext4"), ("mount_option", "rw,relatime"))
    assert used[(*root, ("state", "used"))] == 700 * 4096
    assert used[(*root, ("state", "free"))] == 250 * 4096
    share = _values(families, "disk_percent_used")
    assert share[(*root, ("state", "used"))] == pytest.approx(700 / 950 * 100)
    assert not [f for f in families if f.name == "disk_avg_queue_len"]  # needs two rounds


def test_only_selected_metrics_under_their_names(host: FakeHost) -> None:
    names = {"cpu/load_1m": "load_one", "net/rx_bytes": "rx"}
    families = npd_families(None, _snap(host, 1.0), names=names, labels={})
    assert [f.name for f in families] == ["load_one", "rx"]


def test_rates_over_two_rounds(host: FakeHost) -> None:
    first = _snap(host, 100.0)
    host.write("proc/stat", STAT.replace("cpu  100 10 50 800", "cpu  150 10 100 850", 1))
    host.write(
        "proc/diskstats",
        DISKSTATS.replace("0 700 900 0 0 0 0 0 0", "0 1700 2900 0 0 0 0 0 0", 1),
    )
    host.write("proc/net/dev", NET_DEV.replace("    1000      10", "   21000      10", 1))
    second = _snap(host, 110.0)
    own = own_families(first, second, labels={})
    assert _values(own, "healthwatch_stats_cpu_usage_percent") == {
        (): pytest.approx(100 * 100 / 150)
    }
    receive = _values(own, "healthwatch_stats_network_receive_bytes_per_second")
    assert receive[(("interface_name", "eth0"),)] == 2000.0
    assert receive[(("interface_name", "lo"),)] == 0.0
    busy = _values(own, "healthwatch_stats_disk_busy_percent")
    assert busy[(("device_name", "sda"),)] == 10.0
    npd = npd_families(first, second, names=default_selection(["disk"]), labels={})
    assert _values(npd, "disk_avg_queue_len")[(("device_name", "sda"),)] == 0.2


def test_counters_going_backwards_give_no_rate(host: FakeHost) -> None:
    first = _snap(host, 100.0)
    host.write("proc/net/dev", NET_DEV.replace("    1000      10", "      10      10", 1))
    host.write("proc/stat", STAT.replace("cpu  100 10 50 800", "cpu  1 1 1 1", 1))
    own = own_families(first, _snap(host, 110.0), labels={})
    receive = _values(own, "healthwatch_stats_network_receive_bytes_per_second")
    assert (("interface_name", "eth0"),) not in receive
    assert not [f for f in own if f.name == "healthwatch_stats_cpu_usage_percent"]


def test_own_families_of_one_round(host: FakeHost) -> None:
    own = own_families(None, _snap(host, 100.0), labels={"node": "n1"})
    node = (("node", "n1"),)
    assert _values(own, "healthwatch_stats_memory_available_percent") == {node: pytest.approx(30.0)}
    assert _values(own, "healthwatch_stats_swap_bytes") == {
        (("node", "n1"), ("state", "used")): 100_000 * 1024,
        (("node", "n1"), ("state", "free")): 400_000 * 1024,
    }
    assert _values(own, "healthwatch_stats_oom_kills") == {node: 7.0}
    assert [f.kind for f in own if f.name == "healthwatch_stats_oom_kills"] == [MetricKind.COUNTER]
    inodes = _values(own, "healthwatch_stats_disk_inodes_used_percent")
    assert inodes[(("device_name", "sda1"), ("mountpoint", "/"), ("node", "n1"))] == 60.0
    assert _values(own, "healthwatch_stats_pids_used_percent") == {
        node: pytest.approx(1200 / 32768 * 100)
    }
    assert _values(own, "healthwatch_stats_conntrack_used_percent") == {node: 25.0}
    assert _values(own, "healthwatch_stats_boot_time_seconds") == {node: 1_700_000_100 - 3600}
    info = _values(own, "healthwatch_stats_host_info")
    assert list(info.values()) == [1.0]
    assert ("os_pretty_name", "Debian GNU/Linux 12 (bookworm)") in next(iter(info))
    assert not [f for f in own if f.name.endswith("_per_second")]  # one round: no rates
