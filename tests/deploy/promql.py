"""Metric names in PromQL expressions, and whether healthwatch exports them.

The dashboard and the alerts may only ask for metrics the agent or controller really
exposes. :func:`metric_names` pulls the selectors' metric names out of an expression
(strings, label matchers, ranges and grouping clauses removed first), and
:func:`exported` looks for each name, less its exposition suffix, among the metric
names written in ``src/``.
"""

from __future__ import annotations

import functools
import re

from tests.deploy.manifests import ROOT

__all__ = ["PROMETHEUS_OWN", "exported", "metric_names"]

PROMETHEUS_OWN = frozenset({"up"})
"""Series Prometheus makes itself for every target."""
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}
    | {"bool", "offset", "inf", "nan"}
)
_SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:$.])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects."""
    text = _RANGES.sub("", _MATCHERS.sub("", _STRING.sub('""', expr)))
    text = _GROUPING.sub("", text)
    return {m[1] for m in _IDENTIFIER.finditer(text) if m[1].lower() not in _KEYWORDS}


@functools.cache
def _source_text() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "src").rglob("*.py")))


def exported(name: str) -> bool:
    """Whether ``src/`` names this metric (or prometheus_client's process collector makes it)."""
    if name in PROMETHEUS_OWN:
        return True
    if name.startswith("process_"):
        return "ProcessCollector(" in (ROOT / "src" / "healthwatch" / "metrics.py").read_text()
    if "_" not in name:
        return False  # every name healthwatch exports has a prefix
    bases = {name} | {name.removesuffix(s) for s in _SUFFIXES if name.endswith(s)}
    return any(f'"{base}"' in _source_text() for base in bases)
