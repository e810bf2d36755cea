"""A GPU adapter that plays scripted device states, for testing the GPU daemon without a GPU.

``FakeGpuAdapter`` satisfies :class:`healthwatch.problems.gpu.adapter.GpuAdapter`
as NVML does: devices are listed, sampled, can vanish, can be lost ("GPU is
lost"), and raise Xid events; any method can be made to fail or to hang until
released, to exercise timeouts. It is thread-safe, as the daemon calls it from
worker threads.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter, deque

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.problems.gpu.adapter import (
    GpuAdapterError,
    GpuDevice,
    GpuLostError,
    GpuSample,
    XidEvent,
)

__all__ = ["CLEAN_SAMPLE", "FakeGpuAdapter"]

CLEAN_SAMPLE = GpuSample(
    ecc_volatile_corrected=0,
    ecc_volatile_uncorrected=0,
    ecc_aggregate_corrected=0,
    ecc_aggregate_uncorrected=0,
    retired_pages_pending=False,
    remapped_rows_pending=False,
    remapped_rows_failure=False,
    throttle_reasons=frozenset(),
    temperature_celsius=40.0,
    power_watts=100.0,
)
"""A GPU with nothing wrong: every value supported, no error, cool."""
_MAX_XIDS = 10_000


class FakeGpuAdapter:
    """Scripted GPUs: ``count`` of them on bus ids ``0000:1b:00.0``, ``0000:1c:00.0``, …"""

    def __init__(
        self,
        count: int = 1,
        *,
        devices: list[GpuDevice] | None = None,
        clock: Clock | None = None,
        hang_limit: float = 30.0,
    ) -> None:
        listed = devices if devices is not None else [self.device(i) for i in range(count)]
        self._devices = {device.bus_id: device for device in listed}
        self._samples = {bus_id: CLEAN_SAMPLE for bus_id in self._devices}
        self._gone: set[str] = set()
        self._lost: set[str] = set()
        self._errors: dict[str, GpuAdapterError] = {}
        self._hangs: dict[str, threading.Event] = {}
        self._xids: deque[XidEvent] = deque(maxlen=_MAX_XIDS)
        self._changed = threading.Condition()
        self._clock: Clock = clock or SystemClock()
        self.hang_limit = hang_limit
        """Longest a hung call blocks if the test never releases it (seconds)."""
        self.calls: Counter[str] = Counter()
        """Calls received, by method name."""
        self.initialised = False
        self.shut_down = False

    @staticmethod
    def device(index: int) -> GpuDevice:
        """The device the fake makes for ``index``."""
        return GpuDevice(
            index=index,
            uuid=f"GPU-00000000-0000-0000-0000-{index:012x}",
            bus_id=f"0000:{0x1B + index:02x}:00.0",
            name="Fake GPU",
        )

    @property
    def bus_ids(self) -> list[str]:
        """Every scripted GPU's bus id, in index order."""
        return [d.bus_id for d in sorted(self._devices.values(), key=lambda d: d.index)]

    # ------------------------------------------------------------ scripting
    def set_sample(self, bus_id: str, sample: GpuSample | None = None, **changes: object) -> None:
        """Replace a GPU's sample (``sample``), or change some of its fields (``changes``)."""
        with self._changed:
            base = sample if sample is not None else self._samples[bus_id]
            self._samples[bus_id] = dataclasses.replace(base, **changes)  # type: ignore[arg-type]

    def inject_xid(self, bus_id: str, code: int, *, at: float | None = None) -> None:
        """The driver reports Xid ``code`` on ``bus_id``."""
        event = XidEvent(bus_id=bus_id, code=code, time=self._clock.time() if at is None else at)
        with self._changed:
            self._xids.append(event)
            self._changed.notify_all()

    def vanish(self, bus_id: str) -> None:
        """The GPU is no longer listed by the driver."""
        with self._changed:
            self._gone.add(bus_id)

    def lose(self, bus_id: str) -> None:
        """The GPU is still listed but every read fails with "GPU is lost"."""
        with self._changed:
            self._lost.add(bus_id)

    def restore(self, bus_id: str) -> None:
        """The GPU is back (listed, answering); its sample is clean unless set otherwise."""
        with self._changed:
            self._gone.discard(bus_id)
            self._lost.discard(bus_id)

    def fail(self, method: str, error: GpuAdapterError | None) -> None:
        """Make ``method`` (``init``, ``devices``, ``sample``, ``xid_events``) raise ``error``."""
        with self._changed:
            if error is None:
                self._errors.pop(method, None)
            else:
                self._errors[method] = error

    def hang(self, method: str) -> None:
        """Calls of ``method`` block until :meth:`release` (at most ``hang_limit``)."""
        with self._changed:
            self._hangs.setdefault(method, threading.Event())

    def release(self) -> None:
        """Let every hung call return."""
        with self._changed:
            hangs, self._hangs = self._hangs, {}
        for gate in hangs.values():
            gate.set()

    def _enter(self, method: str) -> None:
        with self._changed:
            self.calls[method] += 1
            gate = self._hangs.get(method)
            error = self._errors.get(method)
        if gate is not None:
            gate.wait(self.hang_limit)
        if error is not None:
            raise error

    # ------------------------------------------------------------ the adapter
    def init(self) -> None:
        """Succeeds unless told to fail."""
        self._enter("init")
        self.initialised = True

    def shutdown(self) -> None:
        """Records the shutdown."""
        self.calls["shutdown"] += 1
        self.shut_down = True

    def devices(self) -> list[GpuDevice]:
        """Every GPU that has not vanished."""
        self._enter("devices")
        with self._changed:
            return [self._devices[b] for b in self.bus_ids if b not in self._gone]

    def sample(self, device: GpuDevice) -> GpuSample:
        """The GPU's scripted sample; GpuLostError when lost or vanished."""
        self._enter("sample")
        with self._changed:
            if device.bus_id in self._lost or device.bus_id in self._gone:
                raise GpuLostError(device.bus_id)
            return self._samples[device.bus_id]

    def xid_events(self, timeout: float) -> list[XidEvent]:
        """The injected Xids, waiting up to ``timeout`` seconds for the first."""
        self._enter("xid_events")
        with self._changed:
            self._changed.wait_for(lambda: bool(self._xids), timeout)
            taken = list(self._xids)
            self._xids.clear()
        return taken
