"""The procfs table parsers behind disk and network figures: known rows, malformed rows."""

from __future__ import annotations

import pytest

from healthwatch.problems.statsmonitor.devparse import (
    parse_diskstats,
    parse_filesystems,
    parse_mounts,
    parse_net_dev,
)
from healthwatch.problems.statsmonitor.procparse import ParseError
from tests.unit.problems.statsmonitor.fakehost import DISKSTATS, FILESYSTEMS, MOUNTS, NET_DEV


def test_diskstats_rows_of_every_kernel_width() -> None:
    rows = {d.device: d for d in parse_diskstats(DISKSTATS)}
    assert list(rows) == ["loop0", "sda", "sda1", "sdb"]
    sda = rows["sda"]
    assert (sda.reads, sda.reads_merged, sda.sectors_read, sda.read_ms) == (100, 10, 2000, 300)
    assert (sda.writes, sda.writes_merged, sda.sectors_written, sda.write_ms) == (
        200,
        20,
        4000,
        600,
    )
    assert (sda.in_flight, sda.io_ms, sda.weighted_ms) == (0, 700, 900)
    assert rows["sda1"].weighted_ms == 850  # the 14-field form of old kernels


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("8 0 sda 1 2 3\n", "line 1: expected at least 14 fields, got 6"),
        ("8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n", "line 1: sda: not an integer: 'x'"),
        ("8 0 sda 1 2 3 4 5 6 7 8 9 10 -1\n", "line 1: sda: out of range"),
    ],
)
def test_diskstats_malformed(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_diskstats(text)


def test_mounts_unescape_paths() -> None:
    rows = parse_mounts(MOUNTS)
    assert [(m.device, m.mountpoint, m.fstype) for m in rows][-1] == (
        "/dev/sdb",
        "/data disk",
        "xfs",
    )
    assert rows[0].options == "rw,relatime"
    with pytest.raises(ParseError, match="line 2: expected at least 4 fields, got 2"):
        parse_mounts("/dev/sda1 / ext4 rw 0 0\nhalf line\n")


def test_filesystems_on_block_devices() -> None:
    assert parse_filesystems(FILESYSTEMS) == {"ext4", "xfs"}


def test_net_dev_interfaces() -> None:
    rows = {r.interface: r for r in parse_net_dev(NET_DEV)}
    assert list(rows) == ["eth0", "lo"]
    eth0 = rows["eth0"]
    assert (eth0.get("rx_bytes"), eth0.get("rx_errors"), eth0.get("rx_dropped")) == (1000, 1, 2)
    assert (eth0.get("rx_multicast"), eth0.get("tx_bytes"), eth0.get("tx_dropped")) == (3, 2000, 5)


def test_net_dev_counters_glued_to_the_name() -> None:
    rows = parse_net_dev("eth0:123456 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n")
    assert rows[0].get("rx_bytes") == 123456


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("eth0 1 2 3\n", "line 1: expected 'interface: counters'"),
        ("eth0: 1 2 3\n", "line 1: eth0: expected 16 counters, got 3"),
        (": 1 2 3\n", "line 1: expected 'interface: counters'"),
        ("eth0: " + "1 " * 15 + "z\n", "line 1: eth0: not an integer: 'z'"),
    ],
)
def test_net_dev_malformed(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_net_dev(text)


def test_truncated_tables_fail_on_the_cut_line() -> None:
    cut = DISKSTATS[: DISKSTATS.index("sdb") + 10]
    with pytest.raises(ParseError, match="line 4: expected at least 14 fields"):
        parse_diskstats(cut)
    cut_net = NET_DEV[:-40]
    with pytest.raises(ParseError, match="line 4: lo: expected 16 counters"):
        parse_net_dev(cut_net)
