"""The ``thresholds:`` of our YAML section: each key on, off, or its defaults with changes.

A mark left out keeps its default; a clearing mark left out sits the default
gap away from the setting mark. Errors name the field path and the value.
"""

from __future__ import annotations

import re

import msgspec

from healthwatch.problems.statsmonitor.settings import Where, fail
from healthwatch.problems.statsmonitor.thresholds import (
    DEFAULT_CONDITIONS,
    THRESHOLD_KINDS,
    ConditionDefault,
    Threshold,
)

__all__ = ["ThresholdSpec", "ThresholdsSpec", "build_thresholds"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


class ThresholdSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One threshold; marks left out keep their defaults."""

    above: float | None = None
    clear_below: float | None = None
    below: float | None = None
    clear_above: float | None = None
    samples: int = 1
    mounts: list[str] | None = None
    condition: str | None = None
    reason: str | None = None


Toggle = ThresholdSpec | bool


class ThresholdsSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """``true``: the defaults; ``false``: off; a mapping: the defaults with changes."""

    memory_available_percent: Toggle = True
    disk_used_percent: Toggle = True
    inodes_used_percent: Toggle = True
    pids_used_percent: Toggle = True
    conntrack_used_percent: Toggle = True


def _percent(where: Where, field: str, value: float) -> float:
    if not 0 <= value <= 100:
        raise fail(where, field, "must be a percentage from 0 to 100", value)
    return float(value)


def _threshold(key: str, spec: ThresholdSpec, where: Where, label: str) -> Threshold:
    kind = THRESHOLD_KINDS[key]
    if kind.direction == "above":
        mark, clear, wrong = spec.above, spec.clear_below, ("below", "clear_above")
    else:
        mark, clear, wrong = spec.below, spec.clear_above, ("above", "clear_below")
    for name in wrong:
        if getattr(spec, name) is not None:
            marks = "above/clear_below" if kind.direction == "above" else "below/clear_above"
            raise fail(where, f"{label}.{name}", f"{key} takes {marks}", getattr(spec, name))
    set_field = f"{label}.{kind.direction}"
    set_at = kind.set_at if mark is None else _percent(where, set_field, mark)
    gap = abs(kind.set_at - kind.clear_at)
    clear_field = f"{label}.{'clear_below' if kind.direction == 'above' else 'clear_above'}"
    if clear is None:
        clear_at = max(set_at - gap, 0.0) if kind.direction == "above" else min(set_at + gap, 100.0)
    else:
        clear_at = _percent(where, clear_field, clear)
    if (kind.direction == "above" and clear_at > set_at) or (
        kind.direction == "below" and clear_at < set_at
    ):
        side = "above" if kind.direction == "above" else "below"
        raise fail(where, clear_field, f"must not be {side} the setting mark {set_at:g}", clear)
    if not 1 <= spec.samples <= 100:
        raise fail(where, f"{label}.samples", "must be from 1 to 100", spec.samples)
    _check_names(spec, where, label)
    return Threshold(
        key=key,
        condition=spec.condition or kind.condition,
        reason=spec.reason or kind.reason,
        direction=kind.direction,
        set_at=set_at,
        clear_at=clear_at,
        samples=spec.samples,
        mounts=_mounts(key, spec, where, label),
    )


def _mounts(key: str, spec: ThresholdSpec, where: Where, label: str) -> tuple[str, ...] | None:
    if spec.mounts is None:
        return None
    if not THRESHOLD_KINDS[key].per_mount:
        raise fail(where, f"{label}.mounts", f"{key} is not per mount", spec.mounts)
    for i, path in enumerate(spec.mounts):
        if not path.startswith("/") or path in spec.mounts[:i]:
            raise fail(where, f"{label}.mounts[{i}]", "an absolute path, listed once", path)
    return tuple(p.rstrip("/") or "/" for p in spec.mounts)


def _check_names(spec: ThresholdSpec, where: Where, label: str) -> None:
    for name, value in (("condition", spec.condition), ("reason", spec.reason)):
        if value is not None and not _NAME.match(value):
            raise fail(where, f"{label}.{name}", "must be a CamelCase word", value)


def build_thresholds(
    spec: ThresholdsSpec, collectors: frozenset[str], where: Where, label: str
) -> tuple[tuple[Threshold, ...], tuple[ConditionDefault, ...]]:
    """The thresholds on (defaults whose collector is off are skipped) and their conditions."""
    built: list[Threshold] = []
    for key, kind in THRESHOLD_KINDS.items():
        toggle: Toggle = getattr(spec, key)
        if toggle is False:
            continue
        field = f"{label}thresholds.{key}"
        if kind.collector not in collectors:
            if toggle is True:
                continue  # a default threshold follows its collector
            raise fail(where, field, f"needs the {kind.collector} collector, which is off")
        chosen = ThresholdSpec() if toggle is True else toggle
        built.append(_threshold(key, chosen, where, field))
    conditions: dict[str, ConditionDefault] = {}
    for threshold in built:
        type_ = threshold.condition
        conditions.setdefault(
            type_,
            DEFAULT_CONDITIONS.get(type_)
            or ConditionDefault(type=type_, reason=f"No{type_}", message="no threshold crossed"),
        )
    return tuple(built), tuple(conditions.values())
