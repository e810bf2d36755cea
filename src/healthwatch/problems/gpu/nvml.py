"""The real GPU adapter: NVIDIA's NVML through ``nvidia-ml-py`` (the optional ``gpu`` extra).

``pynvml`` is imported inside :func:`load_nvml`, so its import cost is paid
only when the GPU daemon starts, and a machine without the extra, without the
library or without the driver gets a reason, not an exception:
:func:`load_nvml` returns ``(None, why)`` and the daemon reports "not applicable".

Every ``NVMLError`` is turned into a :class:`GpuAdapterError` (``GpuLostError``
for "GPU is lost"); a value the GPU does not support is None in the sample.
Xid events come from an NVML event set registered for ``XidCriticalError`` on
every GPU that supports it; the wait is bounded by the caller's timeout.
All methods block: the daemon calls them from its worker threads.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from healthwatch.problems.gpu.adapter import (
    THROTTLE_REASONS,
    GpuAdapter,
    GpuAdapterError,
    GpuDevice,
    GpuLostError,
    GpuSample,
    XidEvent,
    normalize_bus_id,
)

__all__ = ["NvmlAdapter", "load_nvml", "nvml_error"]

T = TypeVar("T")
_MAX_EVENTS = 64
"""Xid events taken per call (the rest wait for the next one)."""
_OPTIONAL = ("NOT_SUPPORTED", "NO_PERMISSION", "FUNCTION_NOT_FOUND", "NO_DATA")
_REASONS = {
    "LIBRARY_NOT_FOUND": "NVML library not found",
    "DRIVER_NOT_LOADED": "driver not loaded",
    "NO_PERMISSION": "no permission to use the NVIDIA driver",
}


def _code(nvml: Any, name: str) -> int:
    return int(getattr(nvml, f"NVML_ERROR_{name}", -1))


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def nvml_error(nvml: Any, error: Exception, *, what: str, bus_id: str = "") -> GpuAdapterError:
    """Our error for an ``NVMLError`` raised by ``what``."""
    value = getattr(error, "value", None)
    if value == _code(nvml, "GPU_IS_LOST"):
        return GpuLostError(bus_id or "unknown GPU", f"GPU is lost ({what})")
    for name, reason in _REASONS.items():
        if value == _code(nvml, name):
            return GpuAdapterError(reason)
    where = f" on {bus_id}" if bus_id else ""
    return GpuAdapterError(f"NVML {what}{where}: {error}")


class NvmlAdapter:
    """:class:`GpuAdapter` over NVML; ``nvml`` is the imported ``pynvml`` module."""

    def __init__(self, nvml: Any) -> None:
        self._nvml = nvml
        self._handles: dict[str, Any] = {}
        self._known: dict[int, GpuDevice] = {}
        self._events: Any = None
        self._registered = 0

    def _call(self, what: str, function: Callable[[], T], *, bus_id: str = "") -> T:
        try:
            return function()
        except self._nvml.NVMLError as error:
            raise nvml_error(self._nvml, error, what=what, bus_id=bus_id) from None

    def _is_optional(self, error: Exception) -> bool:
        """The error says the value is not available here (not supported, not allowed)."""
        return getattr(error, "value", None) in {_code(self._nvml, n) for n in _OPTIONAL}

    def _optional(self, what: str, function: Callable[[], T], *, bus_id: str) -> T | None:
        try:
            return function()
        except self._nvml.NVMLError as error:
            if self._is_optional(error):
                return None
            raise nvml_error(self._nvml, error, what=what, bus_id=bus_id) from None

    def init(self) -> None:
        """``nvmlInit``."""
        self._call("init", self._nvml.nvmlInit)

    def shutdown(self) -> None:
        """Free the event set and ``nvmlShutdown``; errors are ignored."""
        nvml = self._nvml
        try:
            if self._events is not None:
                nvml.nvmlEventSetFree(self._events)
            nvml.nvmlShutdown()
        except nvml.NVMLError:
            pass
        self._events = None

    def devices(self) -> list[GpuDevice]:
        """Every GPU; one that is lost keeps the identity it was first seen with."""
        nvml = self._nvml
        found: list[GpuDevice] = []
        for index in range(int(self._call("device count", nvml.nvmlDeviceGetCount))):
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                pci = nvml.nvmlDeviceGetPciInfo_v3(handle)
                bus_id = normalize_bus_id(_text(pci.busId))
                device = GpuDevice(
                    index=index,
                    uuid=_text(nvml.nvmlDeviceGetUUID(handle)),
                    bus_id=bus_id,
                    name=_text(nvml.nvmlDeviceGetName(handle)),
                )
            except nvml.NVMLError as error:
                known = self._known.get(index)
                if known is None or error.value != _code(nvml, "GPU_IS_LOST"):
                    raise nvml_error(nvml, error, what=f"device {index}") from None
                found.append(known)  # sample() will say it is lost
                continue
            except ValueError as error:
                raise GpuAdapterError(f"device {index}: {error}") from None
            self._handles[bus_id] = handle
            self._known[index] = device
            found.append(device)
        return found

    def sample(self, device: GpuDevice) -> GpuSample:
        """Read every supported value of one GPU."""
        nvml, bus = self._nvml, device.bus_id
        handle = self._handles.get(bus)
        if handle is None:
            handle = self._call(
                "handle", lambda: nvml.nvmlDeviceGetHandleByPciBusId(bus), bus_id=bus
            )
            self._handles[bus] = handle

        def get(what: str, function: Callable[[], T]) -> T | None:
            return self._optional(what, function, bus_id=bus)

        def ecc(kind: int, counter: int) -> int | None:
            value = get("ECC", lambda: nvml.nvmlDeviceGetTotalEccErrors(handle, kind, counter))
            return None if value is None else int(value)

        unc, cor = nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nvml.NVML_MEMORY_ERROR_TYPE_CORRECTED
        rows = get("remapped rows", lambda: nvml.nvmlDeviceGetRemappedRows(handle))
        pending = get("retired pages", lambda: nvml.nvmlDeviceGetRetiredPagesPendingStatus(handle))
        reasons = get("clock events", lambda: self._clock_events(handle))
        temperature = get(
            "temperature", lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
        )
        power = get("power", lambda: nvml.nvmlDeviceGetPowerUsage(handle))
        return GpuSample(
            ecc_volatile_corrected=ecc(cor, nvml.NVML_VOLATILE_ECC),
            ecc_volatile_uncorrected=ecc(unc, nvml.NVML_VOLATILE_ECC),
            ecc_aggregate_corrected=ecc(cor, nvml.NVML_AGGREGATE_ECC),
            ecc_aggregate_uncorrected=ecc(unc, nvml.NVML_AGGREGATE_ECC),
            retired_pages_pending=None if pending is None else bool(pending),
            remapped_rows_pending=None if rows is None else bool(rows[2]),
            remapped_rows_failure=None if rows is None else bool(rows[3]),
            throttle_reasons=None
            if reasons is None
            else frozenset(name for bit, name in THROTTLE_REASONS if int(reasons) & bit),
            temperature_celsius=None if temperature is None else float(temperature),
            power_watts=None if power is None else float(power) / 1000.0,
        )

    def _clock_events(self, handle: Any) -> int:
        nvml = self._nvml
        read = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
        if read is None:  # nvidia-ml-py before 12.535: the deprecated name only
            read = nvml.nvmlDeviceGetCurrentClocksThrottleReasons
        return int(read(handle))

    def _event_set(self) -> Any:
        """Create the event set and register every GPU that supports Xid events."""
        nvml = self._nvml
        events = self._call("event set", nvml.nvmlEventSetCreate)
        wanted = int(nvml.nvmlEventTypeXidCriticalError)
        for bus_id, handle in list(self._handles.items()):
            try:
                if int(nvml.nvmlDeviceGetSupportedEventTypes(handle)) & wanted:
                    nvml.nvmlDeviceRegisterEvents(handle, wanted, events)
                    self._registered += 1
            except nvml.NVMLError as error:  # an old GPU or driver: no Xid events from it
                if not self._is_optional(error):
                    raise nvml_error(nvml, error, what="register events", bus_id=bus_id) from None
        return events

    def xid_events(self, timeout: float) -> list[XidEvent]:
        """Wait up to ``timeout`` seconds for Xid events; GPUs without support are skipped."""
        nvml = self._nvml
        if self._events is None:
            self._events = self._event_set()
        if not self._registered:
            time.sleep(timeout)  # nothing can arrive; keep the caller's pace
            return []
        found: list[XidEvent] = []
        wait_ms = max(int(timeout * 1000), 0)
        while len(found) < _MAX_EVENTS:
            try:
                data = nvml.nvmlEventSetWait_v2(self._events, wait_ms)
            except nvml.NVMLError as error:
                if error.value == _code(nvml, "TIMEOUT"):
                    return found
                raise nvml_error(nvml, error, what="event wait") from None
            wait_ms = 0  # take what is already there, then return
            if int(data.eventType) & int(nvml.nvmlEventTypeXidCriticalError):
                found.append(
                    XidEvent(
                        bus_id=self._bus_of(data.device), code=int(data.eventData), time=time.time()
                    )
                )
        return found

    def _bus_of(self, handle: Any) -> str:
        try:
            return normalize_bus_id(_text(self._nvml.nvmlDeviceGetPciInfo_v3(handle).busId))
        except (self._nvml.NVMLError, ValueError):
            return next((b for b, h in list(self._handles.items()) if h == handle), "unknown")


def load_nvml() -> tuple[GpuAdapter | None, str]:
    """An initialised NVML adapter with its GPUs listed, or None and why not.

    Reasons: ``nvidia-ml-py not installed``, ``NVML library not found``,
    ``driver not loaded``, ``no GPUs``, or the NVML error.
    """
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        return None, "nvidia-ml-py not installed"
    adapter = NvmlAdapter(nvml)
    try:
        adapter.init()
    except GpuAdapterError as error:
        return None, str(error)
    try:
        count = len(adapter.devices())
    except GpuAdapterError as error:
        adapter.shutdown()
        return None, str(error)
    if count == 0:
        adapter.shutdown()
        return None, "no GPUs"
    return adapter, f"{count} GPU{'s' if count != 1 else ''}"
