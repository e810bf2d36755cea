"""Facts about config fields that live in code, not in prose: read from the code each time.

Which check kinds take a field, each kind's default conditions, the shipped rule
packs, the stats collectors, the thresholds' default marks, the fatal Xids:
written by hand they would go stale the day someone changes the code, so the
reference asks the code instead and appends the answer to the field's text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

from healthwatch.checks.runners.dns import RECORD_TYPES
from healthwatch.checks.spec import DEFAULT_CONDITIONS, KIND_FIELDS, CheckEntry
from healthwatch.problems.gpu.config import GpuSpec
from healthwatch.problems.gpu.xids import DEFAULT_FATAL_XIDS
from healthwatch.problems.logmonitor.config import LogMonitorSpec
from healthwatch.problems.logmonitor.packs import pack_names
from healthwatch.problems.statsmonitor.collectors import COLLECTORS
from healthwatch.problems.statsmonitor.config import StatsMonitorSpec
from healthwatch.problems.statsmonitor.thresholds import THRESHOLD_KINDS
from healthwatch.problems.statsmonitor.thresholdspec import ThresholdsSpec

__all__ = ["field_facts"]


def _codes(values: Iterable[object]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _check_entry(name: str) -> str:
    if name == "conditions":
        defaults = "; ".join(
            f"{kind}: `{' and '.join(texts)}`" for kind, texts in DEFAULT_CONDITIONS.items()
        )
        return f"Defaults by kind: {defaults}."
    kinds = [kind for kind, names in KIND_FIELDS.items() if name in names]
    only = f"Only for kind {_codes(kinds)}." if kinds else ""
    if name == "record_type":
        return f"One of {_codes(RECORD_TYPES)}. {only}"
    return only


def _thresholds(name: str) -> str:
    kind = THRESHOLD_KINDS.get(name)
    if kind is None:
        return ""
    clear = "clear_below" if kind.direction == "above" else "clear_above"
    return (
        f"Defaults: `{kind.direction}: {kind.set_at:g}`, `{clear}: {kind.clear_at:g}`; "
        f"condition `{kind.condition}`, reason `{kind.reason}`; collector `{kind.collector}`."
    )


_FACTS: Final[Mapping[type, Callable[[str], str]]] = {
    CheckEntry: _check_entry,
    ThresholdsSpec: _thresholds,
    LogMonitorSpec: lambda name: f"Packs: {_codes(pack_names())}." if name == "packs" else "",
    StatsMonitorSpec: lambda name: (
        f"Collectors: {_codes(COLLECTORS)}." if name == "collectors" else ""
    ),
    GpuSpec: lambda name: (
        f"Default set: {_codes(sorted(DEFAULT_FATAL_XIDS))}." if name == "fatal_xids" else ""
    ),
}


def field_facts(cls: type, name: str) -> str:
    """What the code says about field ``name`` of ``cls`` (empty when nothing)."""
    facts = _FACTS.get(cls)
    return facts(name) if facts is not None else ""
