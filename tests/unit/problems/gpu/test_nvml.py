"""The real NVML adapter where there is no GPU: it loads, says why not, and the daemon idles.

These run against the installed ``nvidia-ml-py`` and whatever NVML library the
machine has; on a machine that does have one the not-applicable tests skip.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest

from healthwatch.model.health import HealthStatus
from healthwatch.problems.gpu.adapter import GpuAdapterError, GpuLostError
from healthwatch.problems.gpu.config import GpuConfig
from healthwatch.problems.gpu.daemon import GpuDaemon
from healthwatch.problems.gpu.nvml import load_nvml, nvml_error
from healthwatch.testing import ManualClock

from .conftest import ClockSleep, Sink, eventually

pynvml = importlib.import_module("pynvml")


@pytest.fixture
def no_nvml() -> str:
    """The reason NVML does not load here (skips where it does)."""
    adapter, why = load_nvml()
    if adapter is not None:
        adapter.shutdown()
        pytest.skip(f"this machine has NVML ({why})")
    return why


def test_load_nvml_says_why_it_cannot_load(no_nvml: str) -> None:
    assert no_nvml in {"NVML library not found", "driver not loaded", "no GPUs"}


def test_load_nvml_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # what an absent package looks like
    assert load_nvml() == (None, "nvidia-ml-py not installed")


async def test_auto_daemon_starts_reports_not_applicable_and_never_errors(
    no_nvml: str, tmp_path: Path
) -> None:
    clock = ManualClock()
    sleep = ClockSleep(clock)
    daemon = GpuDaemon(  # the real loader: load_nvml
        GpuConfig(), clock=clock, host_root=str(tmp_path), state_dir=tmp_path / "state", sleep=sleep
    )
    await daemon.start()
    assert daemon.health() == (HealthStatus.HEALTHY, f"not applicable: {no_nvml}")
    assert not daemon.applicable
    sink = Sink()
    task = asyncio.create_task(daemon.run(sink), name="gpu-under-test")
    await eventually(lambda: len(sleep.calls) >= 3)  # three more attempts to load NVML
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await daemon.stop()
    assert sink.statuses == []  # a node without GPUs gets no GPU conditions
    assert daemon.health()[0] is HealthStatus.HEALTHY
    families = {f.name: f for f in daemon.metric_families("n1")}
    assert families["healthwatch_gpu_monitored"].samples[0].value == 0.0
    assert families["healthwatch_gpu_temperature_celsius"].samples == ()
    assert not (tmp_path / "state").exists()


async def test_the_factory_builds_a_daemon_that_loads_nvml_on_start(no_nvml: str) -> None:
    daemon = GpuDaemon.from_options(
        config=GpuConfig(name="gpus"), clock=ManualClock(), boot_time=1.0, whole_history=True
    )
    assert daemon.name == "gpus"
    await daemon.start()
    assert daemon.health() == (HealthStatus.HEALTHY, f"not applicable: {no_nvml}")
    await daemon.stop()


async def test_enabled_daemon_without_nvml_fails_to_start_naming_why(no_nvml: str) -> None:
    daemon = GpuDaemon(GpuConfig(enabled=True), clock=ManualClock())
    with pytest.raises(GpuAdapterError, match=f"enabled but not possible: {no_nvml}"):
        await daemon.start()
    await daemon.stop()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "NVML library not found"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "driver not loaded"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission to use the NVIDIA driver"),
        (pynvml.NVML_ERROR_UNKNOWN, "NVML sample on 0000:3b:00.0: Unknown Error"),
    ],
)
def test_nvml_errors_become_ours(code: int, expected: str) -> None:
    error = nvml_error(pynvml, pynvml.NVMLError(code), what="sample", bus_id="0000:3b:00.0")
    assert type(error) is GpuAdapterError
    assert str(error) == expected


def test_a_lost_gpu_is_its_own_error() -> None:
    lost = pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
    error = nvml_error(pynvml, lost, what="temperature", bus_id="0000:3b:00.0")
    assert isinstance(error, GpuLostError)
    assert (error.bus_id, error.detail) == ("0000:3b:00.0", "GPU is lost (temperature)")
