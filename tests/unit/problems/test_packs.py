"""The shipped rule packs load, compile, and match the lines they are for (and only those)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from healthwatch.problems.logmonitor.packs import load_pack, pack_names
from healthwatch.problems.logmonitor.rules import Match, RuleEngine, compile_rules

PACKS = ("container-runtime", "kernel", "metax", "nvidia-xid")
FATAL_XIDS = (
    46,
    48,
    54,
    62,
    63,
    64,
    74,
    79,
    92,
    94,
    95,
    109,
    110,
    119,
    120,
    136,
    140,
    143,
    151,
    155,
    156,
    158,
)
EVENT_XIDS = (8, 13, 31, 43, 45, 61, 68, 69, 121, 154, 157, 159, 162, 163)


def matches(pack: str, lines: Sequence[str], buffer_size: int = 10) -> list[Match]:
    _, rules = load_pack(pack)
    engine = RuleEngine(compile_rules(rules, buffer_size=buffer_size))
    return [m for line in lines for m in engine.feed(line) or []]


def test_the_four_packs_are_shipped() -> None:
    assert pack_names() == PACKS


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_compiles_and_every_rule_has_a_literal(pack: str) -> None:
    conditions, rules = load_pack(pack)
    ruleset = compile_rules(rules, buffer_size=10)
    assert ruleset.always == ()  # every rule is behind the prefilter
    declared = {c.type for c in conditions}
    assert {r.condition for r in rules if r.kind == "permanent"} <= declared
    assert all(r.reason for r in rules)


def test_an_unknown_pack_names_the_shipped_ones() -> None:
    with pytest.raises(
        ValueError, match="unknown rule pack 'gpu'; shipped packs: container-runtime"
    ):
        load_pack("gpu")


KERNEL_CASES = [
    (
        "Out of memory: Killed process 4242 (java) total-vm:2048kB, anon-rss:1024kB, file-rss:0kB, "
        "shmem-rss:0kB",
        "OOMKilling",
        {},
    ),
    (
        "Memory cgroup out of memory: Killed process 7 (python3) total-vm:10kB, anon-rss:5kB, "
        "file-rss:1kB",
        "OOMKilling",
        {},
    ),
    ("INFO: task runc:[2:INIT]:1234 blocked for more than 120 seconds.", "TaskHung", {}),
    (
        "unregister_netdevice: waiting for flannel.1 to become free. Usage count = 2",
        "UnregisterNetDevice",
        {},
    ),
    ("BUG: unable to handle kernel NULL pointer dereference at 0000000000000008", "KernelOops", {}),
    ("BUG: kernel NULL pointer dereference, address: 0000000000000000", "KernelOops", {}),
    ("divide error: 0000 [#1] PREEMPT SMP PTI", "KernelOops", {}),
    (
        "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 "
        "[#1] SMP PTI",
        "KernelOops",
        {},
    ),
    ("watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [java:1234]", "KernelSoftLockup", {}),
    (
        "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory "
        "lblock 0",
        "Ext4Error",
        {"device": "sda1"},
    ),
    (
        "EXT4-fs warning (device nvme0n1p1): ext4_dx_add_entry:2461: Directory index full!",
        "Ext4Warning",
        {"device": "nvme0n1p1"},
    ),
    (
        "Buffer I/O error on dev sdb, logical block 12, async page read",
        "IOError",
        {"device": "sdb"},
    ),
    (
        "XFS (dm-0): Corruption of in-memory data detected.  Shutting down filesystem",
        "XfsHasShutdown",
        {"device": "dm-0"},
    ),
    ("EXT4-fs (sda1): Remounting filesystem read-only", "FilesystemIsReadOnly", {}),
    (
        "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0)",
        "MemoryReadError",
        {},
    ),
    ("{1}[Hardware Error]: event severity: corrected", "CperHardwareErrorCorrected", {}),
    ("{2}[Hardware Error]: event severity: recoverable", "CperHardwareErrorRecoverable", {}),
    ("{3}[Hardware Error]: event severity: fatal", "CperHardwareErrorFatal", {}),
    ("TCP: out of memory -- consider tuning tcp_mem", "TCPMemOverFlow", {}),
    ("TCP: too many orphaned sockets", "TCPSkOverFlow", {}),
]

KERNEL_NEAR_MISSES = [
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
    "java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
    "task java:77 blocked for more than 120 seconds. (and then some)",
    "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
    "{1}[Hardware Error]: event severity: corrected, twice",
    "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
    "XFS (sda1): Mounting V5 Filesystem",
    "traps: java[123] general protection fault ip:7f sp:7ffd error:0 in libc.so.6",
]


@pytest.mark.parametrize(("line", "reason", "labels"), KERNEL_CASES)
def test_kernel_lines_match_their_rule(line: str, reason: str, labels: dict[str, str]) -> None:
    (match,) = matches("kernel", [line])
    assert match.rule.reason == reason
    assert {k: v for k, v in match.labels.items() if v} == labels


def test_docker_hung_is_also_a_hung_task_and_a_kernel_deadlock() -> None:
    found = matches("kernel", ["task docker:31337 blocked for more than 120 seconds."])
    assert [(m.rule.reason, m.rule.condition) for m in found] == [
        ("TaskHung", None),
        ("DockerHung", "KernelDeadlock"),
    ]


@pytest.mark.parametrize("line", KERNEL_NEAR_MISSES)
def test_kernel_near_misses_do_not_match(line: str) -> None:
    assert matches("kernel", [line]) == []


RUNTIME_CASES = [
    (
        "Error trying v2 registry: failed to register layer: rename "
        "/var/lib/docker/image/overlay2/layerdb/tmp/write-set-1 "
        "/var/lib/docker/image/overlay2/layerdb/sha256/abc: directory not empty",
        "CorruptDockerImage",
    ),
    (
        "Handler for GET /containers/json returned error: readlink "
        "/var/lib/docker/overlay2/l/ABCDEF: invalid argument",
        "CorruptDockerOverlay2",
    ),
    (
        "task containerd-shim-runc-v2:4321 blocked for more than 240 seconds.",
        "ContainerRuntimeHung",
    ),
    (
        'level=error msg="RunPodSandbox failed" error="failed to create containerd task: failed to '
        "create shim task: "
        'OCI runtime create failed: runc create failed: unable to start container process"',
        "ContainerCreateFailed",
    ),
    (
        'level=error msg="RunPodSandbox for &PodSandboxMetadata{Name:web-0,} failed" error="failed '
        "to reserve sandbox "
        'name \\"web-0_default\\": name is reserved"',
        "SandboxNameReserved",
    ),
    (
        'time="2024-03-05T10:00:00Z" level=fatal msg="failed to start daemon: pid file found"',
        "ContainerRuntimeFatal",
    ),
    (
        "write /var/lib/containerd/io.containerd.content.v1.content/ingest/x: No Space Left On "
        "Device",
        "ContainerRuntimeDiskFull",
    ),
]


@pytest.mark.parametrize(("line", "reason"), RUNTIME_CASES)
def test_container_runtime_lines_match_their_rule(line: str, reason: str) -> None:
    assert [m.rule.reason for m in matches("container-runtime", [line])] == [reason]


@pytest.mark.parametrize(
    "line",
    [
        'level=info msg="starting containerd" revision=abc version=v1.7.2',
        "task kubelet:99 blocked for more than 120 seconds.",
        'level=warning msg="failed to reserve sandbox name"',  # the line goes on after the message
        "readlink /var/lib/docker/volumes/x: invalid argument",
    ],
)
def test_container_runtime_near_misses_do_not_match(line: str) -> None:
    assert matches("container-runtime", [line]) == []


def xid_line(
    code: int, pci: str = "PCI:0000:3b:00", tail: str = "pid=1797828, name=python3, Ch 00000008"
) -> str:
    return f"NVRM: Xid ({pci}): {code}, {tail}"


@pytest.mark.parametrize("code", FATAL_XIDS)
def test_fatal_xids_set_gpu_unhealthy_with_labels(code: int) -> None:
    (match,) = matches("nvidia-xid", [xid_line(code)])
    rule = match.rule
    assert (rule.kind, rule.condition, rule.reason) == (
        "permanent",
        "GPUUnhealthy",
        f"NvidiaXid{code}",
    )
    assert match.labels == {"pci": "0000:3b:00", "code": str(code)}
    assert rule.action
    assert match.message.startswith(xid_line(code) + "; Xid ")


@pytest.mark.parametrize("code", EVENT_XIDS)
def test_other_catalog_xids_are_events(code: int) -> None:
    (match,) = matches("nvidia-xid", [xid_line(code)])
    assert (match.rule.kind, match.rule.reason) == ("temporary", f"NvidiaXid{code}")
    assert match.rule.action


def test_xid_79_says_power_cycle() -> None:
    (match,) = matches(
        "nvidia-xid", ["NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus."]
    )
    assert "power-cycle" in match.rule.action
    assert match.labels == {"pci": "0000:01:00", "code": "79"}


@pytest.mark.parametrize(
    ("line", "labels"),
    [
        ("NVRM: Xid (0000:03:00): 14, Channel 00000001", {"pci": "0000:03:00", "code": "14"}),
        (
            "NVRM: Xid (PCI:0000:cb:00): 999, pid='<unknown>', name=<unknown>, something new",
            {"pci": "0000:cb:00", "code": "999"},
        ),
        ("NVRM: Xid (PCI:0000:9b:00): 7", {"pci": "0000:9b:00", "code": "7"}),
    ],
)
def test_unlisted_xids_are_generic_events(line: str, labels: dict[str, str]) -> None:
    (match,) = matches("nvidia-xid", [line])
    assert (match.rule.reason, match.labels) == ("NvidiaXid", labels)


@pytest.mark.parametrize(
    ("word", "reason", "kind"),
    [
        ("Fatal", "NvidiaXidNVLink5Fatal", "permanent"),
        ("Nonfatal", "NvidiaXidNVLink5", "temporary"),
    ],
)
def test_nvlink5_xids_follow_the_fatal_word(word: str, reason: str, kind: str) -> None:
    line = (
        f"NVRM: Xid (PCI:0018:01:00): 145, RLW_RXPIPE {word} XC0 i0 Link 13 (0x0409a0c2 0x00000008)"
    )
    (match,) = matches("nvidia-xid", [line])
    assert (match.rule.reason, match.rule.kind, match.labels) == (
        reason,
        kind,
        {"pci": "0018:01:00", "code": "145"},
    )


def test_fallen_off_the_bus_without_xid_in_one_line_or_three() -> None:
    (single,) = matches("nvidia-xid", ["NVRM: GPU 0000:18:00.0: GPU has fallen off the bus."])
    assert (single.rule.reason, single.labels) == ("NvidiaGPUFallenOffBus", {"pci": "0000:18:00"})
    split = [
        "NVRM: The NVIDIA GPU 0000:b3:00.0",
        "NVRM: (PCI ID: 10de:26b5) installed in this system has",
        "NVRM: fallen off the bus and is not responding to commands.",
    ]
    (multi,) = matches("nvidia-xid", ["eth0: link up", *split])
    assert multi.rule.condition == "GPUUnhealthy"
    assert multi.labels == {"pci": "0000:b3:00"}
    assert multi.first_line == split[0]
    assert multi.message == "\n".join(split)


def test_nvswitch_sxids() -> None:
    found = matches(
        "nvidia-xid",
        [
            "nvidia-nvswitch3: SXid (PCI:0000:05:00.0): 12028, Non-fatal, Link 32 egress "
            "non-posted PRIV error",
            "nvidia-nvswitch0: SXid (PCI:0000:06:00.0): 24007, Fatal, Link 44 sourcetrack timeout "
            "error",
        ],
    )
    assert [(m.rule.reason, m.rule.condition, m.labels["code"]) for m in found] == [
        ("NvidiaSXid", None, "12028"),
        ("NvidiaSXidFatal", "NVSwitchUnhealthy", "24007"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "NVRM: GPU at PCI:0000:9b:00: GPU-509665ad-b600-ac93-3616-d754b23d636d",
        "NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.104.05",
        "NVRM: Xid (PCI:0000:3b:00): seventy-nine",
        "NVRM: GPU 0000:18:00.0: GPU has fallen off the bus. Retrying",
    ],
)
def test_nvidia_near_misses_do_not_match(line: str) -> None:
    assert matches("nvidia-xid", [line]) == []


METAX_CASES = [
    (
        "METAX.B4F00.SMI.ERROR failed to read temperature",
        "MetaXDriverError",
        {"module": "METAX", "bdf": "4F00", "die": "", "submodule": "SMI"},
    ),
    (
        "METAX.B4F00.D1.V0.SMI.ERROR ecc uncorrectable",
        "MetaXDriverError",
        {"module": "METAX", "bdf": "4F00", "die": "1", "submodule": "SMI"},
    ),
    (
        "MXGVM.B1A000.D0.PCIE.ALERT link down",
        "MetaXDriverAlert",
        {"module": "MXGVM", "bdf": "1A000", "die": "0", "submodule": "PCIE"},
    ),
    (
        "MXCD.B4F00.D0.IOCTL.ERROR EID (0000:01:01.0): 0x2202, device array empty, xxxx, xxxx",
        "MetaXDriverEID",
        {
            "module": "MXCD",
            "bdf": "4F00",
            "die": "0",
            "level": "ERROR",
            "bus": "0000:01:01.0",
            "eid": "0x2202",
        },
    ),
    (
        "SDK.20250619.UMD.FATAL EID (0000:01:01.0): 0x3104, Xnack Error, xxxx, xxxx",
        "MetaXSdkEID",
        {"module": "UMD", "level": "FATAL", "bus": "0000:01:01.0", "eid": "0x3104"},
    ),
]


@pytest.mark.parametrize(("line", "reason", "labels"), METAX_CASES)
def test_metax_lines_match_once_with_labels(line: str, reason: str, labels: dict[str, str]) -> None:
    (match,) = matches("metax", [line])
    assert (match.rule.reason, match.labels) == (reason, labels)


@pytest.mark.parametrize(
    "line",
    [
        "METAX.B4F00.SMI.INFO driver loaded",
        "METAX.BXYZ.SMI.ERROR not hex",
        "metax.b4f00.smi.error lower case",
        "SDK.20250619.UMD.FATAL no error id here",
        "MXCD.B4F00.D0.IOCTL.ERROR EID (0000:01:01.0): not-hex, info",
    ],
)
def test_metax_near_misses_do_not_match(line: str) -> None:
    assert matches("metax", [line]) == []
