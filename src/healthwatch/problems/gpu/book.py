"""The GPU daemon's rules: what each GPU's samples, errors and Xids mean, per GPU and per node.

Pure state, no I/O and no asyncio: the daemon feeds observations in and reads
events, per-GPU problems and node conditions out, so every rule is tested
directly. Each GPU (keyed by bus id) keeps its last good sample, whether it is
lost (NVML's "GPU is lost") or missing from the device list, and its *sticky*
Xids: fatal and reset-needing Xids that hold until the GPU is seen reset. Three
node conditions summarise the GPUs, each naming the offending bus ids:

- ``GPUUnhealthy``: a fatal Xid, a lost or missing GPU, a failed row remapping;
- ``GPUMemoryError``: uncorrectable ECC errors since the last reset (volatile count);
- ``GPUResetRequired``: pages or rows wait for a reset to be retired or remapped, or Xid 63.

Recovery: sample-based problems clear when a sample is clean again; a lost or
missing GPU clears when it answers again. Sticky Xids clear when a reset is
seen: the GPU answered again after being lost or missing (this is the only way
Xid 79 clears), or its volatile ECC counters went down (a GPU reset zeroes
them). A reboot clears everything (the daemon restores sticky Xids only within
the same boot).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from healthwatch.model.problems import Event, Severity
from healthwatch.problems.gpu.adapter import GpuDevice, GpuSample, XidEvent
from healthwatch.problems.gpu.config import GpuConfig
from healthwatch.problems.gpu.xids import STICKY_UNTIL_BACK, XidKind, xid_info

__all__ = ["CONDITIONS", "EVENT_REASONS", "GpuBook", "GpuTrack", "Problem", "sticky_reasons"]

UNHEALTHY, MEMORY, RESET = "GPUUnhealthy", "GPUMemoryError", "GPUResetRequired"
CONDITIONS: dict[str, tuple[str, str]] = {
    UNHEALTHY: ("GPUIsHealthy", "no fatal GPU problem"),
    MEMORY: ("GPUMemoryIsHealthy", "no uncorrectable GPU memory error since the last reset"),
    RESET: ("GPUResetNotRequired", "no GPU waits for a reset"),
}
"""Condition type → (reason, message) while it is False."""

_XID_EVENT = {
    XidKind.FATAL: ("GPUXidFatal", Severity.WARN),
    XidKind.RESET: ("GPUXidResetRequired", Severity.WARN),
    XidKind.APPLICATION: ("GPUXidApplication", Severity.WARN),
    XidKind.WARN: ("GPUXidWarning", Severity.WARN),
    XidKind.INFO: ("GPUXidInfo", Severity.INFO),
}
_THERMAL = frozenset({"sw_thermal_slowdown", "hw_thermal_slowdown"})
_POWER = frozenset({"hw_slowdown", "hw_power_brake_slowdown"})
_HYSTERESIS = 5.0
"""°C below the threshold a GPU must cool to before another high-temperature event."""
EVENT_REASONS = (
    *(reason for reason, _ in _XID_EVENT.values()),
    "GPUThermalThrottle",
    "GPUPowerThrottle",
    "GPUTemperatureHigh",
)
"""Reasons of the events the book emits (condition changes add the conditions' reasons)."""
_SAMPLE_REASONS = {
    UNHEALTHY: ("GPULost", "GPUMissing", "GPURowRemapFailure"),
    MEMORY: ("GPUUncorrectableECC",),
    RESET: ("GPUPendingRowRemap", "GPUPendingPageRetirement"),
}


def sticky_reasons(config: GpuConfig) -> dict[str, tuple[str, ...]]:
    """Condition type → every reason it may carry under ``config``."""
    reasons = {kind: list(found) for kind, found in _SAMPLE_REASONS.items()}
    reasons[UNHEALTHY] += [f"GPUXid{code}" for code in sorted(config.fatal_xids)]
    reasons[RESET] += [
        f"GPUXid{code}"
        for code in (63,)
        if xid_info(code, fatal=config.fatal_xids, ignore=config.ignore_xids).kind is XidKind.RESET
    ]
    return {kind: tuple(found) for kind, found in reasons.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One problem of one GPU."""

    condition: str
    """The node condition it sets."""
    reason: str
    """CamelCase reason (``GPUXid79``, ``GPULost``)."""
    message: str
    """What is wrong and what to do, without the bus id."""
    rank: int
    """Lower is worse: the worst problem gives its condition's reason."""


@dataclass(slots=True, kw_only=True)
class GpuTrack:
    """What the daemon knows about one GPU."""

    bus_id: str
    device: GpuDevice | None = None
    sample: GpuSample | None = None
    lost: str = ""
    """Why the GPU no longer answers (empty while it does)."""
    missing: bool = False
    """Not in the driver's latest device list."""
    away: bool = False
    """Lost or missing since the last good sample: the next good one means it is back."""
    error: str = ""
    """The last sampling error other than "lost" (empty after a good sample)."""
    xids: dict[int, float] = field(default_factory=dict)
    """Sticky Xids (fatal or reset-needing) → time last seen."""
    xid_counts: Counter[int] = field(default_factory=Counter)
    """Every Xid received (ignored ones too), by code."""
    hot: bool = False
    """At or above the temperature threshold (until it cools below the hysteresis)."""

    @property
    def gpu(self) -> str:
        """The GPU's index as a label value ("" when never enumerated)."""
        return str(self.device.index) if self.device is not None else ""

    def labels(self, **extra: str) -> dict[str, str]:
        """Event and metric labels naming this GPU, plus ``extra``."""
        return {"bus_id": self.bus_id, "gpu": self.gpu, **extra}


class GpuBook:
    """Every GPU of the node and the rules that judge them."""

    def __init__(self, config: GpuConfig) -> None:
        self.config = config
        self.gpus: dict[str, GpuTrack] = {}

    def track(self, bus_id: str) -> GpuTrack:
        """The track of ``bus_id``, created on first sight."""
        found = self.gpus.get(bus_id)
        if found is None:
            found = self.gpus[bus_id] = GpuTrack(bus_id=bus_id)
        return found

    # ------------------------------------------------------------ observations
    def observe_devices(self, devices: list[GpuDevice]) -> None:
        """The driver's device list: known GPUs not in it are missing."""
        listed = {device.bus_id for device in devices}
        for device in devices:
            track = self.track(device.bus_id)
            track.device, track.missing = device, False
        for bus_id, track in self.gpus.items():
            if bus_id not in listed and track.device is not None:
                track.missing = track.away = True

    def observe_sample(self, sample: GpuSample, *, bus_id: str, at: float) -> list[Event]:
        """A good sample; events for throttling onset and temperature crossing."""
        track = self.track(bus_id)
        events: list[Event] = []
        if track.away:
            track.xids.clear()  # gone and back: a reset (or a new board) at least
        elif _reset_seen(track.sample, sample):
            track.xids = {c: t for c, t in track.xids.items() if c in STICKY_UNTIL_BACK}
        before = track.sample.throttle_reasons if track.sample is not None else None
        active = sample.throttle_reasons or frozenset()
        started = active - (before or frozenset())
        for reason, names in (("GPUThermalThrottle", _THERMAL), ("GPUPowerThrottle", _POWER)):
            if started & names:
                shown = ", ".join(sorted(active & names))
                events.append(self._event(track, reason, f"clocks slowed down: {shown}", at))
        threshold = self.config.temperature_threshold
        temperature = sample.temperature_celsius
        if threshold is not None and temperature is not None:
            if temperature >= threshold and not track.hot:
                track.hot = True
                message = f"temperature {temperature:g} °C, threshold {threshold:g} °C"
                events.append(self._event(track, "GPUTemperatureHigh", message, at))
            elif temperature < threshold - _HYSTERESIS:
                track.hot = False
        track.sample, track.lost, track.away, track.error = sample, "", False, ""
        return events

    def observe_lost(self, detail: str, *, bus_id: str) -> None:
        """The GPU no longer answers."""
        track = self.track(bus_id)
        track.lost, track.away = detail or "GPU is lost", True

    def observe_error(self, error: str, *, bus_id: str) -> None:
        """Sampling failed for another reason: the judgement stays as it was."""
        self.track(bus_id).error = error

    def observe_xids(self, received: list[XidEvent]) -> list[Event]:
        """Xid events: counted, remembered when sticky, reported unless ignored."""
        events: list[Event] = []
        config = self.config
        for xid in received:
            track = self.track(xid.bus_id)
            track.xid_counts[xid.code] += 1
            info = xid_info(xid.code, fatal=config.fatal_xids, ignore=config.ignore_xids)
            if info.kind is XidKind.IGNORED:
                continue
            if info.kind in (XidKind.FATAL, XidKind.RESET):
                track.xids[xid.code] = xid.time
            reason, severity = _XID_EVENT[info.kind]
            message = f"Xid {xid.code}: {info.title}; suggested action: {info.action}"
            events.append(
                self._event(track, reason, message, xid.time, severity, xid=str(xid.code))
            )
        return events

    @staticmethod
    def _event(
        track: GpuTrack,
        reason: str,
        message: str,
        at: float,
        severity: Severity = Severity.WARN,
        **labels: str,
    ) -> Event:
        return Event(
            severity=severity,
            timestamp=at,
            reason=reason,
            message=f"GPU {track.bus_id}: {message}",
            labels=track.labels(**labels),
        )

    # ------------------------------------------------------------ judgement
    def problems(self, bus_id: str) -> list[Problem]:
        """The current problems of one GPU, worst first."""
        track = self.gpus[bus_id]
        found: list[Problem] = []
        config = self.config
        for code, _ in sorted(track.xids.items()):
            info = xid_info(code, fatal=config.fatal_xids, ignore=config.ignore_xids)
            if info.kind not in (XidKind.FATAL, XidKind.RESET):
                continue  # the config changed since it was saved
            fatal = info.kind is XidKind.FATAL
            found.append(
                Problem(
                    condition=UNHEALTHY if fatal else RESET,
                    reason=f"GPUXid{code}",
                    message=f"Xid {code} ({info.title}); {info.action}",
                    rank=(0 if code in STICKY_UNTIL_BACK else 3) if fatal else 7,
                )
            )
        if track.lost:
            found.append(Problem(condition=UNHEALTHY, reason="GPULost", message=track.lost, rank=1))
        if track.missing:
            message = "no longer listed by the driver"
            found.append(Problem(condition=UNHEALTHY, reason="GPUMissing", message=message, rank=2))
        found += _sample_problems(track.sample)
        return sorted(found, key=lambda p: p.rank)

    def verdicts(self) -> dict[str, list[tuple[str, Problem]]]:
        """Condition type → (bus id, problem) for every GPU with a problem of that type."""
        by_type: dict[str, list[tuple[str, Problem]]] = {kind: [] for kind in CONDITIONS}
        for bus_id in sorted(self.gpus):
            for problem in self.problems(bus_id):
                by_type[problem.condition].append((bus_id, problem))
        for entries in by_type.values():
            entries.sort(key=lambda entry: entry[1].rank)
        return by_type


def _reset_seen(before: GpuSample | None, after: GpuSample) -> bool:
    """Volatile ECC counters went down: the GPU was reset (or its driver reloaded)."""
    if before is None:
        return False
    pairs = (
        (before.ecc_volatile_corrected, after.ecc_volatile_corrected),
        (before.ecc_volatile_uncorrected, after.ecc_volatile_uncorrected),
    )
    return any(old is not None and new is not None and new < old for old, new in pairs)


def _sample_problems(sample: GpuSample | None) -> list[Problem]:
    if sample is None:
        return []
    found: list[Problem] = []
    if sample.remapped_rows_failure:
        message = "row remapping failed: the memory cannot repair itself; replace the GPU"
        found.append(
            Problem(condition=UNHEALTHY, reason="GPURowRemapFailure", message=message, rank=4)
        )
    uncorrected = sample.ecc_volatile_uncorrected
    if uncorrected:
        message = f"{uncorrected} uncorrectable ECC errors since the last reset; reset the GPU"
        found.append(
            Problem(condition=MEMORY, reason="GPUUncorrectableECC", message=message, rank=5)
        )
    if sample.remapped_rows_pending:
        message = "rows wait to be remapped; reset the GPU when idle"
        found.append(Problem(condition=RESET, reason="GPUPendingRowRemap", message=message, rank=6))
    if sample.retired_pages_pending:
        message = "pages wait to be retired; reset the GPU when idle"
        found.append(
            Problem(condition=RESET, reason="GPUPendingPageRetirement", message=message, rank=6)
        )
    return found
