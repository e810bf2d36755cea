"""The GPU daemon's configuration: the ``gpu:`` section, checked once into a frozen value.

```yaml
gpu:
  enabled: auto              # auto (on when NVML loads) | true (an error if it cannot) | false
  interval: 30s              # how often each GPU is sampled
  timeout: 10s               # longest an NVML call may take before the daemon gives up on it
  fatal_xids: [48, 79, 95]   # replaces the default fatal set (see xids.py)
  ignore_xids: [92]          # never reported (still counted in the metrics)
  temperature_threshold: 90  # °C; an event when a GPU crosses it (optional)
```

Errors are :class:`ConfigError` values naming the file, the line (when known),
the field path (``gpu.interval``) and the bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert
from healthwatch.model.errors import ConfigError
from healthwatch.problems.gpu.xids import DEFAULT_FATAL_XIDS, MAX_XID

__all__ = ["GpuConfig", "GpuSpec", "build_gpu_config", "default_gpu_config"]

Duration = str | float | int
Enabled = bool | Literal["auto"]
_MIN_INTERVAL = 1.0
_MAX_TIMEOUT = 300.0
_MAX_TEMPERATURE = 200.0


class GpuSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The ``gpu:`` section as written."""

    name: str = "gpu-monitor"
    enabled: Enabled = "auto"
    interval: Duration = "30s"
    timeout: Duration = "10s"
    fatal_xids: list[int] | None = None
    ignore_xids: list[int] = msgspec.field(default_factory=list)
    temperature_threshold: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuConfig:
    """The GPU daemon's settings, validated."""

    name: str = "gpu-monitor"
    """The daemon's name: its health component and the status source."""
    enabled: Enabled = "auto"
    """``auto``: on when NVML loads and finds a GPU, "not applicable" otherwise;
    ``True``: failing to load NVML is a start error; ``False``: off."""
    interval: float = 30.0
    """Seconds between samples of every GPU."""
    timeout: float = 10.0
    """Seconds an adapter call may take before the daemon stops waiting for it."""
    fatal_xids: frozenset[int] = DEFAULT_FATAL_XIDS
    """Xids that set ``GPUUnhealthy``."""
    ignore_xids: frozenset[int] = frozenset()
    """Xids that are neither events nor conditions (only counted)."""
    temperature_threshold: float | None = None
    """°C above which a GPU is reported with an event; None: no threshold."""
    origin: str = "defaults"
    """Where this came from (file and section), for messages."""


def default_gpu_config() -> GpuConfig:
    """The settings used when the config file has no ``gpu:`` section."""
    return GpuConfig()


class _Fail:
    """Builds errors naming the file, the nearest known line, the field path and the value."""

    def __init__(self, source: str, lines: Mapping[str, int] | None, prefix: str) -> None:
        self._source = source
        self._lines = lines or {}
        self._prefix = prefix

    def path(self, field: str) -> str:
        return ".".join(part for part in (self._prefix, field) if part)

    def __call__(self, field: str, problem: str, value: object) -> ConfigError:
        path = self.path(field)
        line = None
        probe = path
        while line is None and probe:
            line = self._lines.get(probe)
            probe = probe.rpartition(".")[0] if "." in probe else ""
        place = f"{self._source}:{line}" if line else self._source
        return ConfigError(f"{place}: {path}: {problem} (got {value!r:.120})")


def _seconds(fail: _Fail, field: str, value: Duration, *, low: float, high: float) -> float:
    if str(value).strip().startswith("-"):
        raise fail(field, "a duration must not be negative", value)
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise fail(field, "expected a duration like '30s', '5m' or '1h30m'", value) from None
    if not low <= seconds <= high:
        raise fail(field, f"must be between {low:g}s and {high:g}s", value)
    return seconds


def _xids(fail: _Fail, field: str, codes: list[int]) -> frozenset[int]:
    for i, code in enumerate(codes):
        if not 1 <= code <= MAX_XID:
            raise fail(f"{field}[{i}]", f"an Xid is a number from 1 to {MAX_XID}", code)
        if code in codes[:i]:
            raise fail(f"{field}[{i}]", "listed twice", code)
    return frozenset(codes)


def build_gpu_config(
    raw: object, *, source: str, lines: Mapping[str, int] | None = None, prefix: str = "gpu"
) -> GpuConfig:
    """Check the parsed ``gpu:`` section (None: the defaults) read from ``source``.

    ``lines`` is the file's field path → line map (``load_yaml``); ``prefix`` is
    the section's path in the file, used in messages and to find lines.
    """
    if raw is None:
        return GpuConfig(origin=f"{source} ({prefix})")
    fail = _Fail(source, lines, prefix)
    if not isinstance(raw, dict):
        raise fail("", "expected a mapping of GPU settings", raw) from None
    spec = convert(raw, GpuSpec, source=source, lines=dict(lines or {}), prefix=prefix)
    if not spec.name.strip() or len(spec.name) > 64:
        raise fail("name", "must be 1 to 64 characters", spec.name)
    interval = _seconds(fail, "interval", spec.interval, low=_MIN_INTERVAL, high=86400.0)
    timeout = _seconds(fail, "timeout", spec.timeout, low=0.001, high=_MAX_TIMEOUT)
    fatal = (
        DEFAULT_FATAL_XIDS
        if spec.fatal_xids is None
        else _xids(fail, "fatal_xids", spec.fatal_xids)
    )
    ignore = _xids(fail, "ignore_xids", spec.ignore_xids)
    if spec.fatal_xids is not None:
        for i, code in enumerate(spec.ignore_xids):
            if code in fatal:
                raise fail(f"ignore_xids[{i}]", "also listed in fatal_xids", code)
    threshold = spec.temperature_threshold
    if threshold is not None and not 0 < threshold <= _MAX_TEMPERATURE:
        raise fail(
            "temperature_threshold",
            f"must be above 0 and at most {_MAX_TEMPERATURE:g} °C",
            threshold,
        )
    return GpuConfig(
        name=spec.name,
        enabled=spec.enabled,
        interval=interval,
        timeout=timeout,
        fatal_xids=fatal - ignore,
        ignore_xids=ignore,
        temperature_threshold=threshold,
        origin=f"{source} ({prefix})" if prefix else source,
    )
