"""Durations as people write them: ``300ms``, ``30s``, ``5m``, ``1h30m``, ``14d``.

Plain numbers mean seconds. Parsed once at load time, so a bad value is an
error that names the field rather than a surprise at run time.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)")
_MAX = 10 * 365 * 86400.0


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value``; raises ValueError naming the value when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '30s', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        if not text:
            raise ValueError("expected a duration like '30s', got an empty string")
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                pos = match.end()
            if pos != len(text) or pos == 0:
                raise ValueError(
                    f"expected a duration like '300ms', '30s', '5m', '1h30m' or '14d', "
                    f"got {value!r}"
                ) from None
    if math.isnan(seconds) or seconds < 0 or seconds > _MAX:
        raise ValueError(f"duration out of range (0 to 10 years): {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """A short human form: ``250ms``, ``30s``, ``5m``, ``1h30m``."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds < 60 or not float(seconds).is_integer():
        return f"{seconds:g}s"
    parts: list[str] = []
    rest = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)
