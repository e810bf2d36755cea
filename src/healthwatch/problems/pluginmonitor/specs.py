"""What both config forms produce: a :class:`PluginMonitorConfig` of :class:`PluginRule` values.

node-problem-detector's JSON (``npd``) and our YAML (``config``) are decoded
separately, then checked together (``checks``) into these frozen values; the
daemon (``monitor``) reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from healthwatch.model.problems import ProblemDeclaration

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_OUTPUT_LENGTH",
    "DEFAULT_TIMEOUT",
    "DefaultCondition",
    "PluginMonitorConfig",
    "PluginRule",
    "RuleKind",
]

RuleKind = Literal["temporary", "permanent"]

DEFAULT_INTERVAL = 30.0
"""Seconds between invocations (NPD's ``invoke_interval`` default)."""
DEFAULT_TIMEOUT = 5.0
"""Seconds a plugin may run (NPD's global ``timeout`` default)."""
DEFAULT_MAX_OUTPUT_LENGTH = 80
"""Bytes of the message kept (NPD's ``max_output_length`` default)."""
DEFAULT_CONCURRENCY = 3
"""Plugins running at once (NPD's ``concurrency`` default)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultCondition:
    """A condition type the monitor owns, with its healthy (False) reason and message."""

    type: str
    """Condition type (``NTPProblem``)."""
    reason: str
    """Reason while the condition is False (and while it is Unknown)."""
    message: str
    """Message while the condition is False."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginRule:
    """One plugin and what its results mean."""

    kind: RuleKind
    """temporary: a problem result is an event; permanent: results drive a condition."""
    reason: str
    """Reason of the events, and of the condition while the problem holds."""
    condition: str | None
    """Condition type a permanent rule drives; None for temporary rules."""
    path: str
    """The plugin as written in the config (shown in messages)."""
    program: str
    """The absolute path executed (``path`` resolved against the working directory)."""
    args: tuple[str, ...]
    """Arguments, passed as they are (never through a shell)."""
    timeout: float
    """Seconds the plugin may run: the rule's timeout, else the monitor's."""
    interval: float
    """Seconds between invocations: the rule's interval, else the monitor's."""
    name: str
    """Short unique name within the monitor (the reason, numbered if repeated): a metric label."""

    @property
    def argv(self) -> tuple[str, ...]:
        """What is executed."""
        return (self.program, *self.args)


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginMonitorConfig:
    """One validated plugin monitor, whichever form it was written in."""

    name: str
    """Monitor name: NPD's ``source``; the status source and event source component."""
    interval: float = DEFAULT_INTERVAL
    """Seconds between invocations of rules without their own interval."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds a plugin may run; no rule may allow more."""
    max_output_length: int = DEFAULT_MAX_OUTPUT_LENGTH
    """Bytes of a plugin's message kept."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Plugins of this monitor running at once."""
    message_change_updates: bool = False
    """A condition that stays True is updated when only the message changes."""
    skip_initial_status: bool = False
    """Do not report the conditions before the first results."""
    metrics_reporting: bool = True
    """Whether this monitor's problems are declared to the problem metrics."""
    conditions: tuple[DefaultCondition, ...] = ()
    """Every condition type the monitor owns, with its healthy default."""
    rules: tuple[PluginRule, ...] = ()
    """The plugins, in config order (the order of a batch)."""
    origin: str = ""
    """Where this came from: the file (and entry) it was read from."""
    state_key: str = ""
    """Names the saved conditions in the state directory (empty: ``name``); NPD's
    health-checker files all share one ``source``, so theirs include the file's name."""
    warnings: tuple[str, ...] = ()
    """Things accepted but ignored while loading (a condition on a temporary rule...)."""

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """Every problem the rules can report, without repeats (none without metrics)."""
        if not self.metrics_reporting:
            return ()
        seen: dict[tuple[str, str | None], None] = {}
        for rule in self.rules:
            seen[(rule.reason, rule.condition)] = None
        return tuple(ProblemDeclaration(reason=r, condition=c) for r, c in seen)
