"""The overview: the node at a glance, and the state the pages' script polls for changes.

One page answers "is this node well, and if not, why": the overall status,
the node's conditions, every component with its health, every check grouped by
namespace with its 90-day uptime bar and latency sparkline (failing checks
first), the problems seen, a timeline of recent events, and the choices the
agent made by itself. :func:`live_state` is the same information, without the
drawings, as JSON for the script that updates the open pages in place.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from healthwatch.checks.service import CheckService
from healthwatch.exporters.recent import ConditionRecord, ProblemRecord
from healthwatch.health.serializers import iso_time
from healthwatch.model.health import ComponentStatus, HealthReport
from healthwatch.web.dashboard.charts import format_ratio
from healthwatch.web.dashboard.checks import check_href, check_state, check_summary
from healthwatch.web.dashboard.components import ComponentHistory
from healthwatch.web.dashboard.context import DashboardSources, Texts, utc
from healthwatch.web.dashboard.history import HistoryCache
from healthwatch.web.dashboard.problems import (
    TimelineItem,
    condition_rows,
    condition_state,
    problem_href,
    timeline,
)

__all__ = ["CheckGroup", "CheckRow", "Overview", "live_state", "overview"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRow:
    """One check on the overview."""

    id: str
    name: str
    href: str
    kind: str
    state: str
    words: str
    summary: str
    alerting: bool
    uptime_bar: Markup | None
    sparkline: Markup | None
    uptime: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckGroup:
    """The checks of one namespace, failing ones first."""

    name: str
    rows: list[CheckRow]
    failing: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    """What the overview page shows."""

    report: HealthReport
    components: list[ComponentStatus]
    messages: dict[str, str]
    groups: list[CheckGroup]
    counts: dict[str, int]
    conditions: list[ConditionRecord]
    problems: list[ProblemRecord]
    timeline: list[TimelineItem]
    decisions: list[tuple[str, str]]
    has_checks: bool
    has_history: bool
    has_problems: bool


def _rows(service: CheckService, cache: HistoryCache, texts: Texts) -> list[CheckGroup]:
    groups: dict[str, list[CheckRow]] = {}
    for view in service.views.values():
        state, words = check_state(view)
        entry = cache.get(view.spec.id)
        groups.setdefault(view.spec.namespace, []).append(
            CheckRow(
                id=view.spec.id,
                name=view.spec.name,
                href=check_href(view.spec.id),
                kind=view.spec.kind,
                state=state,
                words=words,
                summary=check_summary(view, texts),
                alerting=view.state.alerting,
                uptime_bar=None if entry is None else entry.uptime_bar,
                sparkline=None if entry is None else entry.sparkline,
                uptime="" if entry is None else format_ratio(entry.uptime),
            )
        )
    order = {"failing": 0, "maintenance": 1, "pending": 2, "passing": 3}
    return [
        CheckGroup(
            name=name,
            rows=sorted(rows, key=lambda r: (order.get(r.state, 9), r.id)),
            failing=sum(r.state == "failing" for r in rows),
        )
        for name, rows in sorted(groups.items())
    ]


def overview(
    sources: DashboardSources,
    report: HealthReport,
    *,
    cache: HistoryCache,
    history: ComponentHistory,
    texts: Texts,
) -> Overview:
    """The overview of ``report`` and the parts in ``sources``."""
    service = sources.checks()
    groups = [] if service is None else _rows(service, cache, texts)
    problems = sources.problems
    agent = report.component("agent")
    decisions = [] if agent is None else sorted(agent.metadata.items())
    return Overview(
        report=report,
        components=list(report.components),
        messages={c.name: texts.shown(c.message) for c in report.components},
        groups=groups,
        counts=dict(Counter(r.state for g in groups for r in g.rows)),
        conditions=condition_rows(problems, texts=texts),
        problems=[] if problems is None else [p for p in problems.problems() if p.count],
        timeline=timeline(problems, history, texts=texts),
        decisions=[(k, texts.shown(v)) for k, v in decisions],
        has_checks=service is not None,
        has_history=sources.history() is not None,
        has_problems=problems is not None,
    )


def live_state(
    sources: DashboardSources,
    report: HealthReport,
    *,
    history: ComponentHistory,
    texts: Texts,
) -> dict[str, Any]:
    """What the pages' script needs to update them in place, as JSON-ready data."""
    service = sources.checks()
    checks: dict[str, dict[str, Any]] = {}
    if service is not None:
        for view in service.views.values():
            state, words = check_state(view)
            checks[view.spec.id] = {
                "state": state,
                "words": words,
                "summary": check_summary(view, texts),
                "alerting": view.state.alerting,
            }
    return {
        "generated_at": iso_time(report.generated_at),
        "status": str(report.status),
        "lifecycle": str(report.lifecycle),
        "standby": report.standby,
        "components": {
            c.name: {"status": str(c.status), "message": texts.shown(c.message)}
            for c in report.components
        },
        "checks": checks,
        "conditions": [
            {
                "source": c.source,
                "type": c.current.type,
                "status": str(c.current.status),
                "state": condition_state(c.current),
                "reason": c.current.reason,
                "message": c.current.message,
                "since": utc(c.current.transition),
                "href": problem_href(c.source, c.current.reason) if c.raised else None,
            }
            for c in condition_rows(sources.problems, texts=texts)
        ],
        "timeline": [
            {
                "at": utc(t.at),
                "kind": t.kind,
                "severity": t.severity,
                "title": t.title,
                "detail": t.detail,
                "href": t.href,
                "who": t.who,
            }
            for t in timeline(sources.problems, history, texts=texts)
        ],
    }
