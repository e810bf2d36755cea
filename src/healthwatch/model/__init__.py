"""Pure data types shared by every part of healthwatch.

Nothing here does I/O or imports beyond the standard library: these are the
contracts that cross between the health library, problem detection, checks,
exporters and the store.
"""

from __future__ import annotations

from healthwatch._lazy import lazy_attributes

TYPE_CHECKING = False  # not imported from typing: importing one model module stays cheap
if TYPE_CHECKING:
    from healthwatch.model.checks import CheckResult, Observation
    from healthwatch.model.errors import ConfigError, HealthwatchError, ListenError
    from healthwatch.model.health import (
        ComponentStatus,
        HealthReport,
        HealthStatus,
        Lifecycle,
        OverallStatus,
        ProbeVerdict,
        SuppressionWindow,
    )
    from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
    from healthwatch.model.problems import (
        Condition,
        ConditionStatus,
        Event,
        ProblemDeclaration,
        Severity,
        Status,
        StatusExporter,
    )

__all__ = [
    "CheckResult",
    "ComponentStatus",
    "Condition",
    "ConditionStatus",
    "ConfigError",
    "Event",
    "HealthReport",
    "HealthStatus",
    "HealthwatchError",
    "Lifecycle",
    "ListenError",
    "MetricFamily",
    "MetricKind",
    "Observation",
    "OverallStatus",
    "ProbeVerdict",
    "ProblemDeclaration",
    "Sample",
    "Severity",
    "Status",
    "StatusExporter",
    "SuppressionWindow",
]

_LAZY = {
    "CheckResult": "checks",
    "Observation": "checks",
    "ConfigError": "errors",
    "HealthwatchError": "errors",
    "ListenError": "errors",
    "ComponentStatus": "health",
    "HealthReport": "health",
    "HealthStatus": "health",
    "Lifecycle": "health",
    "OverallStatus": "health",
    "ProbeVerdict": "health",
    "SuppressionWindow": "health",
    "MetricFamily": "metrics",
    "MetricKind": "metrics",
    "Sample": "metrics",
    "Condition": "problems",
    "ConditionStatus": "problems",
    "Event": "problems",
    "Severity": "problems",
    "Status": "problems",
    "ProblemDeclaration": "problems",
    "StatusExporter": "problems",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
