"""NVIDIA Xid codes: what each means, what NVIDIA says to do, and what the daemon does with it.

The table follows NVIDIA's Xid catalog (Ampere and later) and its immediate
actions. The daemon sorts every code into a :class:`XidKind`:

- ``fatal``: the GPU needs a reset, a reboot or hands-on attention; ``GPUUnhealthy``
  holds for that GPU until the daemon sees it reset (Xid 79 until the GPU is back).
  The default set is the one of the project's ``nvidia-xid`` rule pack, less 63
  (``reset`` here) and 109 (an application error for the NVIDIA device plugin).
- ``reset``: a repair waits for the next reset (Xid 63); ``GPUResetRequired``.
- ``application``: the application caused or suffered it (the device plugin's
  skipped set 13, 31, 43, 45, 68, 109, and the other ``RESTART_APP`` codes); an event.
- ``warn``: worth a look but not a verdict on the GPU: codes not in the table,
  NVLink5 codes (144-150, whose severity only the kernel log line tells), and
  catalog-fatal codes taken out of the fatal set by the config; an event.
- ``info``: informational; an event at severity info.

``fatal_xids`` in the config replaces the fatal set; ``ignore_xids`` silences codes
(they are only counted in the metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "APPLICATION_XIDS",
    "CATALOG",
    "DEFAULT_FATAL_XIDS",
    "MAX_XID",
    "STICKY_UNTIL_BACK",
    "XidInfo",
    "XidKind",
    "xid_info",
]

MAX_XID = 999
"""Highest Xid a config may name (NVIDIA's codes are below 200 today)."""


class XidKind(StrEnum):
    """What the daemon does with an Xid."""

    FATAL = "fatal"
    RESET = "reset"
    APPLICATION = "application"
    WARN = "warn"
    INFO = "info"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True, kw_only=True)
class XidInfo:
    """One catalog entry."""

    code: int
    """The Xid number."""
    kind: XidKind
    """The daemon's default handling."""
    title: str
    """What it means, in a few words."""
    action: str
    """NVIDIA's immediate action, in words."""


_RESET = "reset the GPU (nvidia-smi -r), reboot if that fails, replace the GPU if it repeats"
_APP = "restart the application; investigate if it repeats"
_NONE = "none: informational"
_SUPPORT = "contact NVIDIA or the hardware vendor"

_TABLE: tuple[tuple[int, XidKind, str, str], ...] = (
    (8, XidKind.APPLICATION, "FIFO idle timeout, the GPU stopped processing", _APP),
    (13, XidKind.APPLICATION, "graphics engine exception", _APP),
    (31, XidKind.APPLICATION, "GPU memory page fault", _APP),
    (43, XidKind.APPLICATION, "GPU stopped processing (reset channel verification)", _NONE),
    (45, XidKind.APPLICATION, "preemptive cleanup after earlier errors", _NONE),
    (46, XidKind.FATAL, "GPU timeout, the GPU stopped processing", _RESET),
    (48, XidKind.FATAL, "double-bit ECC error", "reset the GPU, then check the SRAM thresholds"),
    (54, XidKind.FATAL, "auxiliary power not connected", "check the GPU's power cables"),
    (61, XidKind.INFO, "PMU breakpoint", _SUPPORT),
    (62, XidKind.FATAL, "PMU halt", _RESET),
    (63, XidKind.RESET, "row remapping or page retirement recorded", "reset the GPU when idle"),
    (64, XidKind.FATAL, "row remapping or page retirement failed", _RESET),
    (68, XidKind.APPLICATION, "NVDEC0 exception", _APP),
    (69, XidKind.APPLICATION, "graphics engine class error", _APP),
    (74, XidKind.FATAL, "NVLink error", "reset the GPU or reboot; check nvidia-smi nvlink -s"),
    (79, XidKind.FATAL, "GPU has fallen off the bus", "power-cycle the node"),
    (92, XidKind.FATAL, "high single-bit ECC error rate", "watch the ECC counters; " + _SUPPORT),
    (94, XidKind.FATAL, "contained memory error", "restart the applications; reset if it repeats"),
    (95, XidKind.FATAL, "uncontained memory error", _RESET),
    (109, XidKind.APPLICATION, "context switch timeout", _APP),
    (110, XidKind.FATAL, "security fault", _RESET),
    (119, XidKind.FATAL, "GSP RPC timeout", _RESET),
    (120, XidKind.FATAL, "GSP error", _RESET),
    (121, XidKind.INFO, "C2C link error", _SUPPORT + " if it repeats"),
    (136, XidKind.FATAL, "NVLink ALI training failed", _RESET),
    (140, XidKind.FATAL, "unrecovered ECC error", _RESET),
    (143, XidKind.FATAL, "GPU initialization failure", _RESET),
    (151, XidKind.FATAL, "key rotation error (confidential computing)", "restart the instance"),
    (154, XidKind.INFO, "GPU recovery action changed", "follow the recovery action it names"),
    (155, XidKind.FATAL, "NVLink software-defined error", _RESET),
    (156, XidKind.FATAL, "resource retirement event", _RESET),
    (157, XidKind.INFO, "resource retirement failure", _SUPPORT),
    (158, XidKind.FATAL, "GPU fatal timeout", _RESET),
    (159, XidKind.APPLICATION, "CHI non-data error", "check the UVM driver; " + _APP),
    (162, XidKind.INFO, "power smoothing circuitry re-engaged", _NONE),
    (163, XidKind.INFO, "power smoothing circuitry disengaged", _NONE),
    *(
        (code, XidKind.WARN, "NVLink5 error", "decode the kernel log line; reset if it says Fatal")
        for code in range(144, 151)
    ),
)

CATALOG: dict[int, XidInfo] = {
    code: XidInfo(code=code, kind=kind, title=title, action=action)
    for code, kind, title, action in _TABLE
}
"""Every Xid the daemon knows, by code."""

DEFAULT_FATAL_XIDS: frozenset[int] = frozenset(
    info.code for info in CATALOG.values() if info.kind is XidKind.FATAL
)
"""Codes that set ``GPUUnhealthy`` unless the config says otherwise."""

APPLICATION_XIDS: frozenset[int] = frozenset({13, 31, 43, 45, 68, 109})
"""The NVIDIA device plugin's "application error" Xids: never a GPU fault by default."""

STICKY_UNTIL_BACK: frozenset[int] = frozenset({79})
"""Fatal codes that hold until the GPU has been gone and is back (a reset is not enough)."""


def xid_info(code: int, *, fatal: frozenset[int], ignore: frozenset[int]) -> XidInfo:
    """The handling of ``code`` under a config's fatal and ignore sets."""
    known = CATALOG.get(code)
    title = known.title if known else "not in the Xid catalog"
    action = known.action if known else "look the code up in NVIDIA's Xid catalog"
    if code in ignore:
        kind = XidKind.IGNORED
    elif code in fatal:
        kind = XidKind.FATAL
    elif known is None or known.kind is XidKind.FATAL:  # unknown, or made non-fatal
        kind = XidKind.WARN
    else:
        kind = known.kind
    return XidInfo(code=code, kind=kind, title=title, action=action)
