"""The NVML adapter over a stand-in for ``pynvml``'s functions (no GPU here).

The stand-in keeps ``pynvml``'s own constants and error classes and replaces only
the functions that would call the C library, so the adapter's conversions
(bus ids, units, bit masks, unsupported values, errors, Xid events) run as they
would on a GPU node.
"""

# The stand-in keeps pynvml's function names and signatures:
# ruff: noqa: N802, ARG002

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from healthwatch.problems.gpu.adapter import GpuAdapterError, GpuLostError, GpuSample
from healthwatch.problems.gpu.nvml import NvmlAdapter, load_nvml

pynvml: Any = importlib.import_module("pynvml")


@dataclass
class Gpu:
    bus: bytes
    lost: bool = False
    ecc: dict[tuple[int, int], int] = field(default_factory=dict)
    events: int = 0x8  # XidCriticalError
    error: int | None = None  # NVML error code every read raises


@dataclass(frozen=True)
class Handle:
    index: int


class FakeNvml:
    """``pynvml`` with scripted GPUs behind its functions."""

    def __init__(self, gpus: list[Gpu], *, missing: tuple[str, ...] = ()) -> None:
        self.gpus = gpus
        self.missing = missing
        self.queue: list[tuple[int, int]] = []  # (gpu index, xid)
        self.registered: list[int] = []
        self.shut = False

    def __getattribute__(self, name: str) -> Any:
        if name in object.__getattribute__(self, "missing"):
            raise AttributeError(name)  # a function this version of pynvml does not have
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:  # constants and errors: pynvml's own
        if name in object.__getattribute__(self, "missing"):
            raise AttributeError(name)
        return getattr(pynvml, name)

    def _gpu(self, handle: Handle) -> Gpu:
        gpu = self.gpus[handle.index]
        if gpu.lost:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        if gpu.error is not None:
            raise pynvml.NVMLError(gpu.error)
        return gpu

    def nvmlInit(self) -> None:
        pass

    def nvmlShutdown(self) -> None:
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Handle:
        self._gpu(Handle(index))
        return Handle(index)

    def nvmlDeviceGetPciInfo_v3(self, handle: Handle) -> SimpleNamespace:
        return SimpleNamespace(busId=self._gpu(handle).bus)

    def nvmlDeviceGetUUID(self, handle: Handle) -> str:
        return f"GPU-{handle.index:08d}"

    def nvmlDeviceGetName(self, handle: Handle) -> bytes:
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetTotalEccErrors(self, handle: Handle, kind: int, counter: int) -> int:
        return self._gpu(handle).ecc.get((kind, counter), 0)

    def nvmlDeviceGetRemappedRows(self, handle: Handle) -> tuple[int, int, int, int]:
        self._gpu(handle)
        return (3, 1, 1, 0)

    def nvmlDeviceGetRetiredPagesPendingStatus(self, handle: Handle) -> int:
        self._gpu(handle)
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)  # Ampere remaps rows instead

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: Handle) -> int:
        self._gpu(handle)
        return 0x40 | 0x4

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: Handle) -> int:
        self._gpu(handle)
        return 0x1

    def nvmlDeviceGetTemperature(self, handle: Handle, sensor: int) -> int:
        self._gpu(handle)
        return 65

    def nvmlDeviceGetPowerUsage(self, handle: Handle) -> int:
        self._gpu(handle)
        return 251_500  # milliwatts

    def nvmlEventSetCreate(self) -> object:
        return object()

    def nvmlDeviceGetSupportedEventTypes(self, handle: Handle) -> int:
        return self._gpu(handle).events

    def nvmlDeviceRegisterEvents(self, handle: Handle, mask: int, events: object) -> None:
        self.registered.append(handle.index)

    def nvmlEventSetWait_v2(self, events: object, timeout_ms: int) -> SimpleNamespace:
        if not self.queue:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_TIMEOUT)
        index, code = self.queue.pop(0)
        return SimpleNamespace(device=Handle(index), eventType=0x8, eventData=code)

    def nvmlEventSetFree(self, events: object) -> None:
        pass


def _adapter(nvml: FakeNvml) -> NvmlAdapter:
    adapter = NvmlAdapter(nvml)
    adapter.init()
    return adapter


def test_devices_are_listed_with_normalised_bus_ids() -> None:
    adapter = _adapter(FakeNvml([Gpu(b"00000000:3B:00.0"), Gpu(b"00000000:5E:00.0")]))
    devices = adapter.devices()
    assert [(d.index, d.bus_id, d.uuid, d.name) for d in devices] == [
        (0, "0000:3b:00.0", "GPU-00000000", "NVIDIA H100 80GB HBM3"),
        (1, "0000:5e:00.0", "GPU-00000001", "NVIDIA H100 80GB HBM3"),
    ]


def test_a_sample_converts_units_and_leaves_unsupported_values_out() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0", ecc={(1, 0): 2, (0, 1): 9})])
    adapter = _adapter(nvml)
    (device,) = adapter.devices()
    assert adapter.sample(device) == GpuSample(
        ecc_volatile_corrected=0,
        ecc_volatile_uncorrected=2,
        ecc_aggregate_corrected=9,
        ecc_aggregate_uncorrected=0,
        retired_pages_pending=None,
        remapped_rows_pending=True,
        remapped_rows_failure=False,
        throttle_reasons=frozenset({"hw_thermal_slowdown", "sw_power_cap"}),
        temperature_celsius=65.0,
        power_watts=251.5,
    )


def test_older_nvidia_ml_py_reads_the_deprecated_throttle_call() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0")], missing=("nvmlDeviceGetCurrentClocksEventReasons",))
    adapter = _adapter(nvml)
    (device,) = adapter.devices()
    assert adapter.sample(device).throttle_reasons == frozenset({"gpu_idle"})


def test_a_lost_gpu_keeps_its_identity_and_its_reads_say_it_is_lost() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0")])
    adapter = _adapter(nvml)
    (device,) = adapter.devices()
    nvml.gpus[0].lost = True
    assert adapter.devices() == [device]
    with pytest.raises(GpuLostError) as caught:
        adapter.sample(device)
    assert caught.value.bus_id == "0000:3b:00.0"


def test_other_nvml_errors_name_the_call_and_the_gpu() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0")])
    adapter = _adapter(nvml)
    (device,) = adapter.devices()
    nvml.gpus[0].error = pynvml.NVML_ERROR_UNKNOWN
    with pytest.raises(GpuAdapterError, match=r"^NVML [a-zA-Z ]+ on 0000:3b:00\.0: Unknown Error$"):
        adapter.sample(device)


def test_a_gpu_never_seen_that_is_lost_fails_the_listing() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0", lost=True)])
    with pytest.raises(GpuLostError):
        _adapter(nvml).devices()


def test_xid_events_come_with_the_bus_id_of_their_gpu() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0"), Gpu(b"00000000:5E:00.0", events=0x1)])
    adapter = _adapter(nvml)
    adapter.devices()
    assert adapter.xid_events(0.01) == []
    assert nvml.registered == [0]  # the second GPU cannot report Xids
    nvml.queue += [(0, 79), (0, 48)]
    events = adapter.xid_events(0.01)
    assert [(e.bus_id, e.code) for e in events] == [("0000:3b:00.0", 79), ("0000:3b:00.0", 48)]
    adapter.shutdown()
    assert nvml.shut


def test_no_gpu_that_reports_xids_means_the_wait_just_passes() -> None:
    nvml = FakeNvml([Gpu(b"00000000:3B:00.0", events=0x1)])
    adapter = _adapter(nvml)
    adapter.devices()
    assert adapter.xid_events(0.001) == []


def test_load_nvml_reports_no_gpus_and_loads_when_there_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    empty = FakeNvml([])
    monkeypatch.setitem(sys.modules, "pynvml", empty)
    assert load_nvml() == (None, "no GPUs")
    assert empty.shut
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml([Gpu(b"00000000:3B:00.0")]))
    adapter, why = load_nvml()
    assert isinstance(adapter, NvmlAdapter) and why == "1 GPU"
