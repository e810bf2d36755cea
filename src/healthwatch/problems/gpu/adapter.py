"""The contract between the GPU daemon and whatever reads the GPUs.

The daemon never talks to NVML directly: it asks a :class:`GpuAdapter` for the
devices, one :class:`GpuSample` per device and poll, and the Xid events seen
since the last call. The real adapter (``nvml``) wraps ``nvidia-ml-py``; the
fake one (``healthwatch.testing.FakeGpuAdapter``) plays scripted device states.
Adapter methods block (NVML calls do); the daemon runs them in worker threads
with a timeout. Adapters raise only :class:`GpuAdapterError` (and its
:class:`GpuLostError`): no library exception leaks through this interface.

PCI bus ids are normalised to the Linux form ``0000:3b:00.0`` (4-digit
lower-case domain, with the function) so that NVML's ``00000000:3B:00.0``, the
kernel log's ``PCI:0000:3b:00`` and sysfs names join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from healthwatch.model.errors import HealthwatchError

__all__ = [
    "THROTTLE_REASONS",
    "GpuAdapter",
    "GpuAdapterError",
    "GpuDevice",
    "GpuLostError",
    "GpuSample",
    "XidEvent",
    "normalize_bus_id",
]

THROTTLE_REASONS: tuple[tuple[int, str], ...] = (
    (0x1, "gpu_idle"),
    (0x2, "applications_clocks_setting"),
    (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
)
"""NVML's clock event (throttle) reason bits and the names samples and metrics use."""

_BUS_ID = re.compile(
    r"^(?:PCI:)?(?:(?P<domain>[0-9a-fA-F]{1,8}):)?(?P<bus>[0-9a-fA-F]{1,2}):"
    r"(?P<device>[0-9a-fA-F]{1,2})(?:\.(?P<function>[0-7]))?$"
)


def normalize_bus_id(text: str) -> str:
    """``00000000:3B:00.0``, ``PCI:0000:3b:00`` or ``3b:00.0`` → ``0000:3b:00.0``.

    Raises ValueError naming the text when it is not a PCI address.
    """
    match = _BUS_ID.match(text.strip())
    if match is None:
        raise ValueError(f"not a PCI bus id: {text!r:.80}")
    domain = int(match.group("domain") or "0", 16)
    if domain > 0xFFFF:
        raise ValueError(f"PCI domain out of range: {text!r:.80}")
    bus, device = int(match.group("bus"), 16), int(match.group("device"), 16)
    if device > 0x1F:
        raise ValueError(f"PCI device number out of range: {text!r:.80}")
    function = int(match.group("function") or "0")
    return f"{domain:04x}:{bus:02x}:{device:02x}.{function}"


class GpuAdapterError(HealthwatchError):
    """An adapter call failed (the message says which call and why)."""


class GpuLostError(GpuAdapterError):
    """The GPU does not answer any more (NVML's "GPU is lost"): it needs a reset or a reboot."""

    def __init__(self, bus_id: str, detail: str = "GPU is lost") -> None:
        super().__init__(f"{bus_id}: {detail}")
        self.bus_id = bus_id
        self.detail = detail


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuDevice:
    """One GPU as enumerated."""

    index: int
    """NVML's index (the order of enumeration; not stable across reboots)."""
    uuid: str
    """The GPU's UUID (``GPU-509665ad-…``), stable for the board."""
    bus_id: str
    """Normalised PCI bus id (``0000:3b:00.0``): the key the daemon uses."""
    name: str = ""
    """Product name (``NVIDIA H100 80GB HBM3``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuSample:
    """One reading of one GPU; a field is None when the GPU or driver does not support it."""

    ecc_volatile_corrected: int | None = None
    """Corrected (single-bit) ECC errors since the last driver load or GPU reset."""
    ecc_volatile_uncorrected: int | None = None
    """Uncorrected (double-bit) ECC errors since the last driver load or GPU reset."""
    ecc_aggregate_corrected: int | None = None
    """Corrected ECC errors over the GPU's lifetime."""
    ecc_aggregate_uncorrected: int | None = None
    """Uncorrected ECC errors over the GPU's lifetime."""
    retired_pages_pending: bool | None = None
    """Pages are waiting to be retired at the next reset (pre-Ampere)."""
    remapped_rows_pending: bool | None = None
    """Rows are waiting to be remapped at the next reset (Ampere and later)."""
    remapped_rows_failure: bool | None = None
    """A row remapping failed: the memory cannot repair itself any more."""
    throttle_reasons: frozenset[str] | None = None
    """Active clock event (throttle) reasons, named as in :data:`THROTTLE_REASONS`."""
    temperature_celsius: float | None = None
    """Core temperature in °C."""
    power_watts: float | None = None
    """Power draw in watts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class XidEvent:
    """One Xid (critical error) event reported by the driver."""

    bus_id: str
    """Normalised bus id of the GPU that reported it."""
    code: int
    """The Xid number."""
    time: float
    """Wall time at which it was received."""


@runtime_checkable
class GpuAdapter(Protocol):
    """Reads GPUs. Every method may block; every failure is a :class:`GpuAdapterError`."""

    def init(self) -> None:
        """Open the library and the driver; raise GpuAdapterError saying why it cannot."""

    def shutdown(self) -> None:
        """Release what ``init`` took; never raises."""

    def devices(self) -> list[GpuDevice]:
        """The GPUs present now."""

    def sample(self, device: GpuDevice) -> GpuSample:
        """Read one GPU; GpuLostError when it no longer answers."""

    def xid_events(self, timeout: float) -> list[XidEvent]:
        """Xid events received, waiting up to ``timeout`` seconds for the first one."""
