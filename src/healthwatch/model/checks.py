"""The outcome of one run of a synthetic check.

Every check kind (HTTP, TCP, DNS, TLS, command, external) reports a
:class:`CheckResult`; the store keeps them, the dashboard shows them and the
exporters count them. Each failed condition carries the value actually observed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckResult", "Observation"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One condition of a check, with what was expected and what was seen."""

    condition: str
    """The condition as written (``status == 200``)."""
    ok: bool
    """Whether it held."""
    observed: str
    """The value seen, rendered for people (``503``, ``412ms``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One run of one check."""

    check_id: str
    """``namespace/name`` of the check."""
    run_id: str
    """Unique id of this run (the Kuberhealthy run uuid for external checks)."""
    ok: bool
    """Whether the run passed."""
    errors: tuple[str, ...] = ()
    """Why it failed, one entry per problem; empty when ``ok``."""
    started_at: float
    """Wall time the run started."""
    duration: float
    """Seconds the run took."""
    observations: tuple[Observation, ...] = ()
    """The conditions evaluated, each with its observed value."""
