"""Write a synthetic kernel log in the traditional syslog format, for log monitor benchmarks.

``python bench/kernlog.py --out kern.log --lines 1000000`` writes lines such as

    Nov 22 00:54:04 bench-node kernel: [  412.312198] <message>

where about ``--match-ratio`` of the messages (default 0.1 %) are problems the
kernel rule pack knows (hung tasks, OOM kills, oopses, ext4 and I/O errors,
CPER events, unregister_netdevice) and the rest is ordinary kernel chatter. The
last line is always a hung-task marker, so a benchmark can stop its clock when
that problem is reported. Deterministic for a given seed; timestamps start now.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

MARKER = "task bench_final_marker:4242 blocked for more than 120 seconds."

PROBLEMS = [
    (
        "OOMKilling",
        "Out of memory: Killed process {pid} (java) total-vm:{kb}kB, "
        "anon-rss:{kb}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:{kb}kB",
    ),
    ("TaskHung", "INFO: task {proc}:{pid} blocked for more than 120 seconds."),
    ("KernelOops", "BUG: unable to handle kernel NULL pointer dereference at 0000000000000{n}"),
    (
        "Ext4Error",
        "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #{n}: "
        "comm {proc}: reading directory lblock 0",
    ),
    ("IOError", "Buffer I/O error on dev sdb, logical block {n}, async page read"),
    (
        "UnregisterNetDevice",
        "unregister_netdevice: waiting for eth{n} to become free. Usage count = 1",
    ),
    ("CperHardwareErrorCorrected", "{{1}}[Hardware Error]: event severity: corrected"),
]
CHATTER = [
    'audit: type=1400 audit({pid}.{n}:{n}): apparmor="DENIED" operation="open" '
    'profile="cri-containerd.apparmor.d" name="/proc/{pid}/mounts" pid={pid} comm="{proc}"',
    "IPv6: ADDRCONF(NETDEV_CHANGE): veth{n}: link becomes ready",
    "cni0: port {n}(veth{n}) entered forwarding state",
    "[UFW BLOCK] IN=ens4 OUT= SRC=10.{n}.1.2 DST=10.0.0.{n} LEN=60 PROTO=TCP SPT={pid} DPT=443",
    "perf: interrupt took too long ({n} > {kb}), lowering kernel.perf_event_max_sample_rate",
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
    "{proc}[{pid}]: segfault at 0 ip 00007f{kb} sp 00007ffd{kb} error 4 in libc.so.6",
    "TCP: request_sock_TCP: Possible SYN flooding on port {n}. Sending cookies.",
]
PROCS = ["kworker/0:1", "containerd", "kubelet", "java", "python3", "nginx", "etcd"]


def generate(out: Path, *, lines: int, match_ratio: float, seed: int) -> dict[str, object]:
    """Write the file; return what a correct monitor must report."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    start = time.time()
    expected: dict[str, int] = {}
    with out.open("w", encoding="utf-8") as handle:
        for index in range(lines):
            stamp = start + index * 1e-4
            prefix = time.strftime("%b %e %H:%M:%S", time.localtime(stamp))
            uptime = 400 + index * 1e-4
            fields = {
                "pid": rng.randrange(1, 65535),
                "n": rng.randrange(1000),
                "kb": rng.randrange(1000, 9_999_999),
                "proc": rng.choice(PROCS),
            }
            if index == lines - 1:
                reason, message = "TaskHung", MARKER
            elif rng.random() < match_ratio:
                reason, template = rng.choice(PROBLEMS)
                message = template.format(**fields)
            else:
                reason, message = "", rng.choice(CHATTER).format(**fields)
            if reason:
                expected[reason] = expected.get(reason, 0) + 1
            handle.write(f"{prefix} bench-node kernel: [{uptime:12.6f}] {message}\n")
    return {"lines": lines, "marker": MARKER, "expected_problem_counter": expected}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--match-ratio", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    sidecar = generate(args.out, lines=args.lines, match_ratio=args.match_ratio, seed=args.seed)
    args.out.with_suffix(args.out.suffix + ".expected.json").write_text(json.dumps(sidecar))
    print(json.dumps(sidecar))


if __name__ == "__main__":
    main()
