"""The service monitor's running figures and their metric families (``healthwatch_service_*``).

Figures are plain counters the monitor updates as it polls; the families are
built from them at scrape time. Every series a monitor can have exists from the
start (repairs at zero, each log pattern at zero), so alerts on ``increase()``
see the first repair.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.model.problems import Condition, ConditionStatus
from healthwatch.problems.servicemonitor.config import ServiceMonitorConfig
from healthwatch.problems.servicemonitor.systemd import UnitState

__all__ = ["Figures", "families"]

REPAIR_OUTCOMES = ("succeeded", "failed")
SKIP_CAUSES = ("cooldown", "budget")
COMMANDS = ("systemctl", "journalctl")


@dataclass(slots=True, kw_only=True)
class Figures:
    """What a monitor has done so far."""

    patterns: int
    """Number of configured log patterns."""
    polls: int = 0
    """Polls made."""
    check_errors: Counter[str] = field(default_factory=Counter)
    """Failed or timed-out ``systemctl``/``journalctl`` calls, by command."""
    repairs: Counter[str] = field(default_factory=Counter)
    """Repairs by outcome (``succeeded``, ``failed``)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Repairs wanted but held back, by cause (``cooldown``, ``budget``)."""
    counts: tuple[int, ...] = ()
    """Latest log pattern counts."""
    last_error: str = ""
    """The latest poll's failure of our own commands (empty: none)."""
    budget_blocked: bool = False
    """The latest poll wanted a repair the budget did not allow."""
    journal_backlog: bool = False
    """The latest journal read was cut short by the output cap or the timeout."""


def _family(
    name: str, kind: MetricKind, help_: str, samples: list[tuple[dict[str, str], float]]
) -> MetricFamily:
    return MetricFamily(
        name=f"healthwatch_service_{name}",
        kind=kind,
        help=help_,
        samples=tuple(Sample(labels=labels, value=value) for labels, value in samples),
    )


def families(
    config: ServiceMonitorConfig,
    figures: Figures,
    *,
    state: UnitState | None,
    condition: Condition | None,
    uptime: float | None,
    restarts: int,
    node: str | None,
) -> list[MetricFamily]:
    """The monitor's metric families, labelled with monitor, unit, component and node."""
    base = {
        "monitor": config.name,
        "unit": config.unit,
        "component": str(config.component),
        **({"node": node} if node else {}),
    }
    gauge, counter = MetricKind.GAUGE, MetricKind.COUNTER
    up = [(base, 1.0 if state.active else 0.0)] if state is not None else []
    healthy = (
        [(base, 1.0 if condition.status is ConditionStatus.FALSE else 0.0)]
        if condition is not None and condition.status is not ConditionStatus.UNKNOWN
        else []
    )
    counts = figures.counts or (0,) * figures.patterns
    return [
        _family("up", gauge, "1 while the systemd unit is active.", up),
        _family("healthy", gauge, "1 while the service's condition is False (healthy).", healthy),
        _family(
            "uptime_seconds",
            gauge,
            "Seconds since the unit last left the inactive state.",
            [(base, uptime)] if uptime is not None else [],
        ),
        _family(
            "restarts",
            counter,
            "Restarts of the unit observed between polls.",
            [(base, float(restarts))],
        ),
        _family(
            "repairs",
            counter,
            "Repairs (kills of the unit's main process), by outcome.",
            [({**base, "outcome": o}, float(figures.repairs[o])) for o in REPAIR_OUTCOMES],
        ),
        _family(
            "repairs_skipped",
            counter,
            "Repairs held back by the cool-down or the hourly budget, by cause.",
            [({**base, "cause": c}, float(figures.skipped[c])) for c in SKIP_CAUSES],
        ),
        _family(
            "log_pattern_matches",
            gauge,
            "Journal lines matching each configured pattern since the unit started.",
            [
                ({**base, "pattern": p.text}, float(n))
                for p, n in zip(config.log_patterns, counts, strict=True)
            ],
        ),
        _family(
            "check_errors",
            counter,
            "systemctl or journalctl calls that failed or timed out, by command.",
            [({**base, "command": c}, float(figures.check_errors[c])) for c in COMMANDS],
        ),
        _family("polls", counter, "Polls made by the service monitor.", [(base, figures.polls)]),
    ]
