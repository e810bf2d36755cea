"""Node problems on the dashboard: the problem page and the overview's conditions and timeline.

A problem is one reason reported by one daemon (``kernel-monitor``/``OOMKilling``).
Its page is the evidence: the rule that matches it, how many times it was seen
since the agent started and when first and last, the latest matched log lines,
and for a permanent problem the condition it sets, with its current state and
earlier states. The overview shows the current conditions (raised ones first),
the reasons seen so far, and one timeline merging problem events with the
agent's own component status changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from healthwatch.exporters.recent import ConditionRecord, ProblemRecord, RecentProblems, SeenEvent
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import Condition
from healthwatch.web.dashboard.components import ComponentHistory
from healthwatch.web.dashboard.context import Texts

__all__ = [
    "ProblemPage",
    "TimelineItem",
    "component_href",
    "condition_rows",
    "condition_state",
    "problem_href",
    "problem_page",
    "timeline",
]


def problem_href(source: str, reason: str) -> str:
    """The problem page of ``reason`` reported by ``source``."""
    return f"/problems/{quote(source, safe='')}/{quote(reason, safe='')}"


def condition_state(condition: Condition) -> str:
    """``raised`` (True), ``clear`` (False) or ``unknown``: a CSS class and a word."""
    return {"True": "raised", "False": "clear"}.get(str(condition.status), "unknown")


def component_href(name: str) -> str:
    """The component page of ``name``."""
    return f"/components/{quote(name, safe=':@')}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemPage:
    """What the problem page shows."""

    problem: ProblemRecord
    condition: ConditionRecord | None
    """The condition this reason sets, as it stands (permanent problems only)."""


def _shown_event(event: SeenEvent, texts: Texts) -> SeenEvent:
    return event if texts.details else replace(event, message=texts.shown(""), labels=())


def _shown_condition(condition: Condition, texts: Texts) -> Condition:
    return condition if texts.details else replace(condition, message=texts.shown(""))


def _shown_record(record: ConditionRecord, texts: Texts) -> ConditionRecord:
    if texts.details:
        return record
    return ConditionRecord(
        source=record.source,
        current=_shown_condition(record.current, texts),
        previous=tuple(_shown_condition(c, texts) for c in record.previous),
    )


def problem_page(
    problems: RecentProblems, source: str, reason: str, *, texts: Texts
) -> ProblemPage | None:
    """The page of one reason of one daemon, or None when nothing is known of it."""
    record = problems.problem(source, reason)
    if record is None:
        return None
    if not texts.details:
        record = replace(record, events=tuple(_shown_event(e, texts) for e in record.events))
    condition = None
    if record.condition is not None:
        condition = next(
            (
                c
                for c in problems.conditions()
                if c.source == source and c.current.type == record.condition
            ),
            None,
        )
    return ProblemPage(
        problem=record,
        condition=None if condition is None else _shown_record(condition, texts),
    )


def condition_rows(problems: RecentProblems | None, *, texts: Texts) -> list[ConditionRecord]:
    """Every daemon's current conditions, raised first."""
    if problems is None:
        return []
    return [_shown_record(c, texts) for c in problems.conditions()]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineItem:
    """One entry of the overview's timeline."""

    at: float
    kind: str
    """``problem`` or ``component``."""
    severity: str
    """A CSS class: ``warn``, ``info``, or the component's new status."""
    title: str
    detail: str
    href: str
    who: str
    """The daemon or component it concerns."""


def timeline(
    problems: RecentProblems | None,
    history: ComponentHistory,
    *,
    texts: Texts,
    limit: int = 30,
) -> list[TimelineItem]:
    """Problem events and component changes, newest first.

    A component's first report (unknown to healthy, at start) is not news and is left out.
    """
    items: list[TimelineItem] = []
    if problems is not None:
        items += [
            TimelineItem(
                at=e.timestamp,
                kind="problem",
                severity=str(e.severity),
                title=e.reason,
                detail=texts.shown(e.message),
                href=problem_href(e.source, e.reason),
                who=e.source,
            )
            for e in problems.timeline(limit)
        ]
    items += [
        TimelineItem(
            at=c.at,
            kind="component",
            severity=str(c.new),
            title=f"{c.name}: {c.old} → {c.new}",
            detail=texts.shown(c.message),
            href=component_href(c.name),
            who=c.name,
        )
        for c in history.latest(limit)
        if not (c.old is HealthStatus.UNKNOWN and c.new is HealthStatus.HEALTHY)  # first report
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]
