"""Collectors over a fake host root: known values in, exact figures out; failures kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from healthwatch.problems.statsmonitor.collectors import COLLECTORS, CollectOptions, collect
from healthwatch.problems.statsmonitor.files import HostFiles, ReadError
from healthwatch.problems.statsmonitor.samples import Snapshot
from tests.unit.problems.statsmonitor.fakehost import FakeHost


@pytest.fixture
def host(tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path / "host")


def _collect(host: FakeHost, options: CollectOptions | None = None) -> Snapshot:
    return collect(host.files(), options or CollectOptions(), monotonic=10.0, wall=1_700_003_600.5)


def test_every_collector_reads_the_fake_host(host: FakeHost) -> None:
    snap = _collect(host)
    assert dict(snap.errors) == {}
    assert dict(snap.absent) == {}
    assert snap.cpu is not None and snap.cpu.load.threads == 1200
    memory = snap.memory
    assert memory is not None
    assert memory.total == 1_024_000_000
    assert memory.available == 307_200_000
    assert memory.available_percent == pytest.approx(30.0)
    assert memory.used_npd == (1_000_000 - 200_000 - 50_000 - 150_000 - 100_000) * 1024
    assert memory.oom_kills == 7
    assert snap.pids is not None
    assert (snap.pids.threads, snap.pids.limit) == (1200, 32768)
    assert snap.conntrack is not None
    assert snap.conntrack.used_percent == pytest.approx(25.0)
    host_sample = snap.host
    assert host_sample is not None
    assert (host_sample.uptime, host_sample.kernel) == (3600.5, "6.1.0-test")
    assert host_sample.os_version == "debian 12"
    assert snap.net is not None
    assert [r.interface for r in snap.net.interfaces] == ["eth0", "lo"]


def test_disk_usage_per_block_device_as_df_counts_it(host: FakeHost) -> None:
    disk = _collect(host).disk
    assert disk is not None
    usage = {u.mountpoint: u for u in disk.mounts}
    assert list(usage) == ["/", "/data disk"]  # tmpfs, proc and the second sda1 mount left out
    root = usage["/"]
    assert (root.device, root.fstype, root.options) == ("sda1", "ext4", "rw,relatime")
    assert root.used == 700 * 4096
    assert root.available == 250 * 4096
    assert root.used_percent == pytest.approx(700 / 950 * 100)
    assert root.inodes_used == 600
    assert root.inodes_used_percent == pytest.approx(60.0)
    assert usage["/data disk"].inodes_used_percent == 0.0  # no fixed inode count
    assert [d.device for d in disk.io] == ["loop0", "sda", "sda1", "sdb"]


def test_device_filters(host: FakeHost) -> None:
    excluded = _collect(host, CollectOptions(exclude_devices=re.compile(r"^loop\d+$"))).disk
    assert excluded is not None
    assert [d.device for d in excluded.io] == ["sda", "sda1", "sdb"]
    whole = _collect(host, CollectOptions(include_root_blk=True)).disk
    assert whole is not None
    assert [d.device for d in whole.io] == ["loop0", "sda", "sdb"]  # /sys/block, ram left out
    mounted = _collect(host, CollectOptions(include_attached_blk=True)).disk
    assert mounted is not None
    assert [d.device for d in mounted.io] == ["sda1", "sdb"]


def test_interface_filter(host: FakeHost) -> None:
    net = _collect(host, CollectOptions(exclude_interfaces=re.compile("^lo$"))).net
    assert net is not None
    assert [r.interface for r in net.interfaces] == ["eth0"]


def test_watched_paths_are_measured_where_they_live(host: FakeHost) -> None:
    host.set_used_percent("/var/lib", 95)
    disk = _collect(host, CollectOptions(watch_paths=("/var/lib", "/nowhere"))).disk
    assert disk is not None
    watched = disk.watched["/var/lib"]
    assert (watched.device, watched.used_percent) == ("sda1", 95.0)
    assert "/nowhere" not in disk.watched
    assert any("/nowhere" in why for why in disk.skipped)


def test_a_missing_file_turns_its_collector_off_with_a_reason(host: FakeHost) -> None:
    host.remove("proc/diskstats")
    host.remove("proc/sys/kernel/osrelease")
    snap = _collect(host)
    assert snap.disk is None and snap.host is None
    assert "cannot read" in snap.errors["disk"] and "diskstats" in snap.errors["disk"]
    assert "osrelease" in snap.errors["host"]
    assert snap.cpu is not None and snap.memory is not None  # the others go on


def test_a_malformed_file_names_the_collector_and_line(host: FakeHost) -> None:
    host.write("proc/net/dev", "header|\nheader|\n  eth0: 1 2 3\n")
    snap = _collect(host)
    assert snap.errors["net"] == "net: line 3: eth0: expected 16 counters, got 3"


def test_conntrack_without_the_module_is_absent_not_failed(host: FakeHost) -> None:
    host.remove("proc/sys/net/netfilter/nf_conntrack_count")
    snap = _collect(host)
    assert snap.conntrack is None
    assert "conntrack" not in snap.errors
    assert "nf_conntrack not loaded" in snap.absent["conntrack"]


def test_optional_files_fall_back(host: FakeHost) -> None:
    host.remove("proc/vmstat")
    host.remove("proc/sys/kernel/threads-max")
    host.remove("proc/1/mounts")
    host.write("proc/self/mounts", "/dev/sda1 / ext4 rw 0 0\n")
    host.remove("proc/filesystems")
    host.remove("etc/os-release")
    host.write("usr/lib/os-release", "ID=fedora\nVERSION_ID=40\n")
    host.write("proc/meminfo", "MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 5 kB\n")
    snap = _collect(host)
    assert dict(snap.errors) == {}
    assert snap.memory is not None
    assert snap.memory.oom_kills is None
    assert snap.memory.available_percent == pytest.approx(20.0)  # free + buffers + cache
    assert snap.disk is not None and [u.mountpoint for u in snap.disk.mounts] == ["/"]
    assert snap.host is not None and snap.host.os_version == "fedora 40"


def test_only_enabled_collectors_run(host: FakeHost) -> None:
    host.remove("proc/diskstats")
    snap = _collect(host, CollectOptions(collectors=frozenset({"cpu"})))
    assert snap.cpu is not None
    assert snap.memory is None and snap.disk is None
    assert dict(snap.errors) == {}
    assert set(COLLECTORS) >= {"cpu", "memory", "disk", "net", "host", "pids", "conntrack"}


def test_a_huge_file_is_refused_without_reading_it_all(host: FakeHost) -> None:
    host.write("proc/stat", b"cpu 1 2 3 4\n" + b"x" * 300_000)
    files = HostFiles(host_root=str(host.root), max_bytes=100_000, statvfs=host.statvfs)
    snap = collect(files, CollectOptions(), monotonic=0.0, wall=0.0)
    assert "larger than 100000 bytes" in snap.errors["cpu"]
    with pytest.raises(ReadError, match="larger than"):
        files.read_proc("stat")


def test_zero_limits_are_refused(host: FakeHost) -> None:
    host.write("proc/sys/kernel/pid_max", "0\n")
    host.write("proc/sys/kernel/threads-max", "0\n")
    host.write("proc/sys/net/netfilter/nf_conntrack_max", "0\n")
    snap = _collect(host)
    assert snap.errors["pids"] == "pids: pid_max is 0"
    assert snap.errors["conntrack"] == "conntrack: nf_conntrack_max is 0"


def test_proc_root_elsewhere(host: FakeHost, tmp_path: Path) -> None:
    files = host.files(proc_root=str(host.root / "proc"))
    assert files.proc_path("stat") == str(host.root / "proc" / "stat")
    files.check_proc_root()
    with pytest.raises(ReadError, match="is not a directory"):
        HostFiles(host_root=str(tmp_path / "none")).check_proc_root()


def test_network_figures_are_the_machines_not_the_readers(host: FakeHost) -> None:
    # With the host's /proc under host_root, proc/net is the reading pod's own network;
    # proc/1/net is the host init's, i.e. the machine's.
    host.write(
        "proc/1/net/dev",
        "Inter-| Receive | Transmit\n face |bytes packets|bytes packets\n"
        "  ens5: 777 7 0 0 0 0 0 0 888 8 0 0 0 0 0 0\n",
    )
    net = _collect(host).net
    assert net is not None
    assert [row.interface for row in net.interfaces] == ["ens5"]
