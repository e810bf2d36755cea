"""Pure data types shared by every part of healthwatch.

Nothing here does I/O or imports beyond the standard library: these are the
contracts that cross between the health library, problem detection, checks,
exporters and the store.
"""

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
from healthwatch.model.problems import Condition, ConditionStatus, Event, Severity, Status

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
    "Sample",
    "Severity",
    "Status",
    "SuppressionWindow",
]
