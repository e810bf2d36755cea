"""The GPU daemon's metrics as plain metric families (no client library here).

Every per-GPU family is labelled ``gpu`` (NVML index) and ``bus_id``; a value
the GPU does not support is left out rather than reported as zero. The table
below defines the gauges read straight from the last sample, so adding one is
one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.problems.gpu.adapter import THROTTLE_REASONS, GpuSample
from healthwatch.problems.gpu.book import GpuBook, GpuTrack

__all__ = ["DaemonFigures", "gpu_families"]

_GAUGES: tuple[tuple[str, str, Callable[[GpuSample], float | bool | None]], ...] = (
    ("temperature_celsius", "GPU core temperature.", lambda s: s.temperature_celsius),
    ("power_watts", "GPU power draw.", lambda s: s.power_watts),
    (
        "retired_pages_pending",
        "1 while pages wait to be retired at the next GPU reset.",
        lambda s: s.retired_pages_pending,
    ),
    (
        "remapped_rows_pending",
        "1 while rows wait to be remapped at the next GPU reset.",
        lambda s: s.remapped_rows_pending,
    ),
    (
        "remapped_rows_failed",
        "1 when a row remapping failed (the GPU needs replacing).",
        lambda s: s.remapped_rows_failure,
    ),
)
_ECC: tuple[tuple[str, str, Callable[[GpuSample], int | None]], ...] = (
    ("corrected", "volatile", lambda s: s.ecc_volatile_corrected),
    ("uncorrected", "volatile", lambda s: s.ecc_volatile_uncorrected),
    ("corrected", "aggregate", lambda s: s.ecc_aggregate_corrected),
    ("uncorrected", "aggregate", lambda s: s.ecc_aggregate_uncorrected),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonFigures:
    """The daemon's own figures, beside the GPUs'."""

    monitored: bool
    """NVML loaded and GPUs are being read."""
    errors: int
    """Adapter calls that failed."""
    timeouts: int
    """Adapter calls that did not return in time."""


def _family(name: str, kind: MetricKind, help_: str, samples: list[Sample]) -> MetricFamily:
    return MetricFamily(
        name=f"healthwatch_gpu_{name}", kind=kind, help=help_, samples=tuple(samples)
    )


def gpu_families(book: GpuBook, figures: DaemonFigures, *, node: str | None) -> list[MetricFamily]:
    """Every ``healthwatch_gpu_*`` family."""
    base = {"node": node} if node else {}
    tracks = [book.gpus[bus_id] for bus_id in sorted(book.gpus)]

    def labels(track: GpuTrack, **extra: str) -> dict[str, str]:
        return {**base, **track.labels(**extra)}

    sampled = [(track, track.sample) for track in tracks if track.sample is not None]
    families = [
        _family(
            "monitored",
            MetricKind.GAUGE,
            "1 while the daemon reads GPUs through NVML; 0 when not applicable.",
            [Sample(labels=base, value=1.0 if figures.monitored else 0.0)],
        ),
        _family(
            "adapter_errors",
            MetricKind.COUNTER,
            "NVML calls that failed or did not return in time.",
            [
                Sample(labels={**base, "kind": "error"}, value=float(figures.errors)),
                Sample(labels={**base, "kind": "timeout"}, value=float(figures.timeouts)),
            ],
        ),
        _family(
            "up",
            MetricKind.GAUGE,
            "1 while the GPU answers; 0 when it is lost, missing or failing to answer.",
            [
                Sample(
                    labels=labels(track),
                    value=0.0 if track.lost or track.missing or track.error else 1.0,
                )
                for track in tracks
                if track.device is not None
            ],
        ),
    ]
    for name, help_, read in _GAUGES:
        points = [(track, read(sample)) for track, sample in sampled]
        families.append(
            _family(
                name,
                MetricKind.GAUGE,
                help_,
                [Sample(labels=labels(t), value=float(v)) for t, v in points if v is not None],
            )
        )
    ecc = [
        Sample(labels=labels(track, error=error, scope=scope), value=float(value))
        for track, sample in sampled
        for error, scope, read in _ECC
        if (value := read(sample)) is not None
    ]
    families.append(
        _family("ecc_errors", MetricKind.COUNTER, "ECC errors (volatile: since reset).", ecc)
    )
    throttle = [
        Sample(
            labels=labels(track, reason=reason),
            value=1.0 if reason in sample.throttle_reasons else 0.0,
        )
        for track, sample in sampled
        if sample.throttle_reasons is not None
        for _, reason in THROTTLE_REASONS
    ]
    families.append(
        _family(
            "throttle_reason", MetricKind.GAUGE, "1 while a clock event reason is active.", throttle
        )
    )
    xids = [
        Sample(labels=labels(track, xid=str(code)), value=float(count))
        for track in tracks
        for code, count in sorted(track.xid_counts.items())
    ]
    families.append(_family("xid_events", MetricKind.COUNTER, "Xid events by code.", xids))
    problems = [
        Sample(labels=labels(track, condition=p.condition, reason=p.reason), value=1.0)
        for track in tracks
        for p in book.problems(track.bus_id)
    ]
    families.append(
        _family("problem", MetricKind.GAUGE, "1 for each current problem of each GPU.", problems)
    )
    return families
