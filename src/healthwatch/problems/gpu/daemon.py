"""The GPU problem daemon: samples every GPU each interval, follows Xid events, reports problems.

Two loops share one :class:`GpuBook`: the poll loop lists the GPUs and samples
each one every ``interval`` (on the injected clock and sleep), and the Xid loop
waits for Xid events in short rounds. Every adapter call runs in a worker
thread with a timeout (see ``worker``), so a hung driver makes the daemon's
own health degraded but never blocks the event loop or the daemon.

On a machine where NVML cannot load (no extra, no library, no driver, no GPU)
and ``enabled`` is ``auto``, the daemon starts, reports no condition at all
(a node without GPUs gets no GPU conditions), keeps trying to load NVML every
minute (a GPU operator may install the driver after the agent starts), and its
health is HEALTHY with the message ``not applicable: <why>``: nothing is wrong
with the daemon, there is nothing for it to watch. With ``enabled: true`` the
same situation is a start error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import Condition, Event, ProblemDeclaration, Status
from healthwatch.problems.base import StatusSink
from healthwatch.problems.gpu.adapter import GpuAdapter, GpuAdapterError, GpuDevice, GpuLostError
from healthwatch.problems.gpu.book import EVENT_REASONS, GpuBook, Problem, sticky_reasons
from healthwatch.problems.gpu.conditions import NodeConditions
from healthwatch.problems.gpu.config import GpuConfig
from healthwatch.problems.gpu.metrics import DaemonFigures, gpu_families
from healthwatch.problems.gpu.state import StateKeeper
from healthwatch.problems.gpu.worker import CallWorker, GpuCallTimeoutError

__all__ = ["GpuDaemon"]

_log = logging.getLogger("healthwatch.problems.gpu")
_RELOAD_EVERY = 60.0
"""Seconds between attempts to load NVML while it is not applicable (auto mode)."""
Loader = Callable[[], tuple[GpuAdapter | None, str]]


def _load_nvml() -> tuple[GpuAdapter | None, str]:
    from healthwatch.problems.gpu.nvml import load_nvml  # noqa: PLC0415 - only when on

    return load_nvml()


class GpuDaemon:
    """Watches the node's GPUs; a :class:`ProblemDaemon`."""

    def __init__(
        self,
        config: GpuConfig,
        *,
        clock: Clock | None = None,
        adapter: GpuAdapter | None = None,
        loader: Loader | None = None,
        host_root: str = "/",
        state_dir: Path | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        xid_wait: float = 1.0,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._adapter = adapter
        self._loader: Loader = loader or _load_nvml
        path = state_dir / "gpu" / f"{config.name}.json" if state_dir else None
        self._state = StateKeeper(path, host_root=host_root)
        self._sleep = sleep or asyncio.sleep
        self._xid_wait = xid_wait
        self._poller = CallWorker(f"{config.name}-poll")
        self._xid_worker = CallWorker(f"{config.name}-xid")
        self.book = GpuBook(config)
        self._conditions = NodeConditions(now=self.clock.time())
        self._ready = False
        self._started = False
        self._why = "not started"
        self.errors = 0
        self._poll_errors: list[str] = []
        self._xid_error = ""

    @classmethod
    def from_options(
        cls,
        *,
        config: GpuConfig,
        clock: Clock,
        adapter: GpuAdapter | None = None,
        host_root: str = "/",
        state_dir: Path | None = None,
        **_: object,
    ) -> GpuDaemon:
        """Factory for the daemon-kind registry (unknown options are other kinds')."""
        return cls(config, clock=clock, adapter=adapter, host_root=host_root, state_dir=state_dir)

    @property
    def name(self) -> str:
        """The daemon's name (``gpu-monitor``)."""
        return self.config.name

    @property
    def applicable(self) -> bool:
        """True once an adapter is loaded and GPUs are being watched."""
        return self._ready

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """Every event reason, and every reason each condition may carry."""
        found = [ProblemDeclaration(reason=r, source=self.name) for r in EVENT_REASONS]
        for kind, reasons in sticky_reasons(self.config).items():
            found += [
                ProblemDeclaration(reason=r, condition=kind, source=self.name) for r in reasons
            ]
        return tuple(found)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Load the adapter; with ``enabled: true``, GpuAdapterError when it cannot."""
        self._started = True
        if self.config.enabled is False:
            self._why = "disabled in the config"
            return
        await self._load()
        if not self._ready and self.config.enabled is True:
            raise GpuAdapterError(f"GPU monitoring is enabled but not possible: {self._why}")

    async def _load(self) -> None:
        timeout = self.config.timeout
        devices: list[GpuDevice] = []
        try:
            if self._adapter is None:
                adapter, why = await self._poller.call("load NVML", self._loader, timeout=timeout)
            else:
                adapter, why = self._adapter, ""
                await self._poller.call("init", adapter.init, timeout=timeout)
            if adapter is not None:
                devices = await self._poller.call("list devices", adapter.devices, timeout=timeout)
                if not devices:
                    adapter, why = None, "no GPUs"
        except GpuAdapterError as error:
            adapter, why = None, str(error)
        if adapter is None:
            self._why = why
            return
        self._adapter, self._ready = adapter, True
        self._state.restore(self.book)
        self.book.observe_devices(devices)
        _log.info("%s: watching %d GPUs", self.name, len(devices))

    async def stop(self) -> None:
        """Save the sticky state, shut the adapter down and end the worker threads."""
        if self._ready and self._adapter is not None:
            self._state.save(self.book)
            with contextlib.suppress(GpuAdapterError):
                await self._poller.call(
                    "shutdown", self._adapter.shutdown, timeout=1.0, patience=1.0
                )
        self._poller.close()
        self._xid_worker.close()

    async def run(self, sink: StatusSink) -> None:
        """Watch until cancelled; while not applicable, retry loading NVML now and then."""
        if self.config.enabled is False:
            await asyncio.Event().wait()
        while not self._ready:
            await self._sleep(max(self.config.interval, _RELOAD_EVERY))
            await self._load()
        sink.report(Status(source=self.name, conditions=self._conditions.conditions()))
        xids = asyncio.create_task(self._xid_loop(sink), name=f"healthwatch-{self.name}-xids")
        try:
            while True:
                started = self.clock.monotonic()
                await self.poll(sink)
                if xids.done():  # it ended on something unexpected: fail, the detector restarts
                    xids.result()
                    raise RuntimeError("the Xid watch ended")
                spent = self.clock.monotonic() - started
                await self._sleep(max(self.config.interval - spent, 0.0))
        finally:
            xids.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await xids

    # ------------------------------------------------------------ watching
    @property
    def adapter(self) -> GpuAdapter:
        """The adapter in use; GpuAdapterError when there is none."""
        if self._adapter is None or not self._ready:
            raise GpuAdapterError(f"{self.name}: no GPU adapter ({self._why})")
        return self._adapter

    async def poll(self, sink: StatusSink) -> None:
        """List the GPUs, sample each present one, report what changed."""
        adapter, timeout, at = self.adapter, self.config.timeout, self.clock.time()
        errors: list[GpuAdapterError] = []
        try:
            self.book.observe_devices(
                await self._poller.call("list devices", adapter.devices, timeout=timeout)
            )
        except GpuAdapterError as error:
            errors.append(error)
        events: list[Event] = []
        for track in list(self.book.gpus.values()):
            device = track.device
            if device is None or track.missing:
                continue
            read = functools.partial(adapter.sample, device)
            try:
                sample = await self._poller.call(f"sample {device.bus_id}", read, timeout=timeout)
            except GpuLostError as error:
                self.book.observe_lost(error.detail, bus_id=track.bus_id)
            except GpuAdapterError as error:
                self.book.observe_error(str(error), bus_id=track.bus_id)
                errors.append(error)
            else:
                events += self.book.observe_sample(sample, bus_id=track.bus_id, at=at)
        self.errors += sum(not isinstance(e, GpuCallTimeoutError) for e in errors)
        self._poll_errors = [str(e) for e in errors]
        self._emit(events, sink, at=at)

    async def check_xids(self, sink: StatusSink, *, wait: float = 0.0) -> None:
        """Take the Xid events that arrive within ``wait`` seconds and report them."""
        adapter = self.adapter
        received = await self._xid_worker.call(
            "wait for Xid events",
            functools.partial(adapter.xid_events, wait),
            timeout=wait + self.config.timeout,
        )
        self._xid_error = ""
        if received:
            self._emit(self.book.observe_xids(received), sink, at=self.clock.time())

    async def _xid_loop(self, sink: StatusSink) -> None:
        failures = 0
        while True:
            try:
                await self.check_xids(sink, wait=self._xid_wait)
                failures = 0
            except GpuAdapterError as error:
                failures += 1
                self.errors += not isinstance(error, GpuCallTimeoutError)
                self._xid_error = str(error)
                _log.warning("%s: Xid events: %s", self.name, error)
                await self._sleep(min(2.0**failures, self.config.interval))

    def _emit(self, events: list[Event], sink: StatusSink, *, at: float) -> None:
        events += self._conditions.update(self.book.verdicts(), at=at)
        if events:
            sink.report(
                Status(source=self.name, events=tuple(events), conditions=self.conditions())
            )
        self._state.save(self.book)

    def gpu_problems(self) -> dict[str, list[Problem]]:
        """Bus id → current problems (worst first) of every GPU the daemon knows."""
        return {bus_id: self.book.problems(bus_id) for bus_id in sorted(self.book.gpus)}

    def conditions(self) -> tuple[Condition, ...]:
        """The current node conditions: GPUUnhealthy, GPUMemoryError, GPUResetRequired."""
        return self._conditions.conditions()

    # ------------------------------------------------------------ own health and metrics
    def health(self) -> tuple[HealthStatus, str]:
        """HEALTHY when watching (or not applicable); DEGRADED while NVML calls fail or hang."""
        if not self._started:
            return HealthStatus.UNKNOWN, "not started"
        if not self._ready:
            return HealthStatus.HEALTHY, f"not applicable: {self._why}"
        trouble = [
            f"NVML call {stuck[0]} has not returned for {stuck[1]:.1f}s"
            for worker in (self._poller, self._xid_worker)
            if (stuck := worker.stuck) is not None and stuck[1] >= self.config.timeout
        ]
        trouble += self._poll_errors[:3]
        if self._xid_error:
            trouble.append(f"Xid events: {self._xid_error}")
        if trouble:
            return HealthStatus.DEGRADED, "; ".join(trouble)
        present = sum(1 for t in self.book.gpus.values() if t.device and not t.missing)
        return HealthStatus.HEALTHY, f"watching {present} GPU{'' if present == 1 else 's'}"

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """``healthwatch_gpu_*``: per-GPU values, Xid counts, problems, adapter errors."""
        figures = DaemonFigures(
            monitored=self._ready,
            errors=self.errors,
            timeouts=self._poller.timeouts + self._xid_worker.timeouts,
        )
        return gpu_families(self.book, figures, node=node)
