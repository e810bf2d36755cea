"""A fake host tree in a temporary directory: procfs, sysfs and /etc files with known values.

Every figure the tests expect is written here. Filesystem usage comes from a
table served through ``HostFiles``' injectable ``statvfs`` (a real filesystem
cannot be made 93 % full on demand); everything else is read from real files.
"""

from __future__ import annotations

import os
from pathlib import Path

from healthwatch.problems.statsmonitor.files import HostFiles

STAT = """\
cpu  100 10 50 800 20 5 5 10 0 0
cpu0 50 5 25 400 10 3 2 5 0 0
cpu1 50 5 25 400 10 2 3 5 0 0
intr 12345 1 2 3
ctxt 999
btime 1700000000
processes 4242
procs_running 3
procs_blocked 1
softirq 1 2 3
"""
LOADAVG = "0.50 0.40 0.30 3/1200 5555\n"
MEMINFO = """\
MemTotal:        1000000 kB
MemFree:          200000 kB
MemAvailable:     300000 kB
Buffers:           50000 kB
Cached:           150000 kB
SwapCached:            0 kB
Active(anon):        111 kB
Inactive(anon):      222 kB
Active(file):        333 kB
Inactive(file):      444 kB
Unevictable:          55 kB
SwapTotal:        500000 kB
SwapFree:         400000 kB
Dirty:                66 kB
Writeback:            77 kB
Slab:             100000 kB
HugePages_Total:       0
"""
VMSTAT = "nr_free_pages 50000\noom_kill 7\n"
DISKSTATS = """\
   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8       0 sda 100 10 2000 300 200 20 4000 600 0 700 900 0 0 0 0 0 0
   8       1 sda1 90 9 1800 280 190 19 3800 580 0 650 850
   8      16 sdb 5 0 40 10 6 0 48 12 0 20 22 0 0 0 0
"""
MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid 0 0
tmpfs /run tmpfs rw,nosuid 0 0
/dev/sda1 /var/lib/docker ext4 rw,relatime 0 0
/dev/sdb /data\\040disk xfs rw,noatime 0 0
"""
FILESYSTEMS = "nodev\tsysfs\nnodev\tproc\nnodev\ttmpfs\n\text4\n\txfs\n"
NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
  eth0:    1000      10    1    2    0     0          0         3     2000      20    4    5    0     0       0          0
    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
"""  # noqa: E501 - the kernel's own header
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'

FILES = {
    "proc/stat": STAT,
    "proc/loadavg": LOADAVG,
    "proc/meminfo": MEMINFO,
    "proc/vmstat": VMSTAT,
    "proc/diskstats": DISKSTATS,
    "proc/1/mounts": MOUNTS,
    "proc/filesystems": FILESYSTEMS,
    "proc/net/dev": NET_DEV,
    "proc/uptime": "3600.50 7000.00\n",
    "proc/sys/kernel/osrelease": "6.1.0-test\n",
    "proc/sys/kernel/pid_max": "32768\n",
    "proc/sys/kernel/threads-max": "100000\n",
    "proc/sys/net/netfilter/nf_conntrack_count": "1000\n",
    "proc/sys/net/netfilter/nf_conntrack_max": "4000\n",
    "etc/os-release": OS_RELEASE,
}
BLOCK_SIZE = 4096


class FakeHost:
    """A host root under ``root`` with the files above and a filesystem table."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for relative, text in FILES.items():
            self.write(relative, text)
        for name in ("sda", "sdb", "ram0", "loop0"):
            (root / "sys" / "block" / name).mkdir(parents=True, exist_ok=True)
        self.filesystems: dict[str, tuple[int, int, int, int, int]] = {}
        """Host mount point → (blocks, free, available, inodes, free inodes)."""
        self.set_fs("/", blocks=1000, free=300, available=250, inodes=1000, inodes_free=400)
        self.set_fs("/data disk", blocks=2000, free=1000, available=1000, inodes=0, inodes_free=0)

    def write(self, relative: str, text: str | bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink()

    def set_fs(
        self,
        mountpoint: str,
        *,
        blocks: int,
        free: int,
        available: int,
        inodes: int,
        inodes_free: int,
    ) -> None:
        self.filesystems[mountpoint] = (blocks, free, available, inodes, inodes_free)

    def set_used_percent(self, mountpoint: str, percent: float) -> None:
        """Space in use as ``df`` shows it (no reserved blocks)."""
        used = round(percent * 10)
        self.set_fs(
            mountpoint,
            blocks=1000,
            free=1000 - used,
            available=1000 - used,
            inodes=1000,
            inodes_free=900,
        )

    def statvfs(self, path: str) -> os.statvfs_result:
        """The table's figures for a path under the root; ENOENT for others."""
        mountpoint = "/" + os.path.relpath(path, self.root).removeprefix(".")
        mountpoint = os.path.normpath(mountpoint)
        figures = self.filesystems.get(mountpoint)
        if figures is None:
            raise FileNotFoundError(2, "No such file or directory", path)
        blocks, free, available, inodes, inodes_free = figures
        return os.statvfs_result(
            (
                BLOCK_SIZE,
                BLOCK_SIZE,
                blocks,
                free,
                available,
                inodes,
                inodes_free,
                inodes_free,
                0,
                255,
            )
        )

    def files(self, *, proc_root: str | None = None) -> HostFiles:
        return HostFiles(host_root=str(self.root), proc_root=proc_root, statvfs=self.statvfs)

    def set_memory_available(self, percent: float) -> None:
        """MemAvailable as a share of the 1,000,000 kB total."""
        text = MEMINFO.replace("300000 kB", f"{round(percent * 10000)} kB", 1)
        self.write("proc/meminfo", text)
