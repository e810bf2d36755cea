"""The check page: a check's runs, each failed condition with its observed value, and alerts.

Everything a person needs to judge a failing check is on one page: what the
check does (kind, interval, conditions, thresholds, alert routes, maintenance
windows), its latest runs with each condition that failed and the value seen,
latency percentiles over a chosen period (a day or a week of hourly roll-ups,
or 90 days of daily ones) as an inline chart with its numbers in a table, the
90-day uptime by day, and the alert history. The store keeps runs, not alert
transitions, so the alert history is recomputed from the stored runs with the
check's own thresholds and maintenance windows, exactly as the service counts
them; the latest notification and those still waiting for a route come from the
check's saved state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote

from markupsafe import Markup

from healthwatch.checks.alerts.notification import Notification
from healthwatch.checks.service import CheckView
from healthwatch.checks.state import CheckState, PendingAlert
from healthwatch.model.checks import CheckResult
from healthwatch.model.errors import HealthwatchError
from healthwatch.store.history import HistoryStore
from healthwatch.store.rollups import Resolution, Rollup
from healthwatch.web.dashboard.charts import (
    format_ratio,
    format_seconds,
    percentile_chart,
    uptime_days,
    uptime_ratio,
)
from healthwatch.web.dashboard.context import Texts, every

__all__ = [
    "RANGES",
    "AlertChange",
    "CheckPage",
    "ResultRow",
    "check_href",
    "check_page",
    "check_state",
    "check_summary",
]

RANGES: Final[dict[str, tuple[int, Resolution]]] = {
    "1d": (86400, "hour"),
    "7d": (7 * 86400, "hour"),
    "90d": (90 * 86400, "day"),
}
"""The latency chart's periods: length in seconds and the roll-up read."""
SHOWN_RUNS: Final = 50
REPLAYED_RUNS: Final = 1000
_SUMMARY_CHARS: Final = 200


def check_href(check_id: str) -> str:
    """The check page of ``namespace/name``."""
    namespace, _, name = check_id.partition("/")
    return f"/checks/{quote(namespace, safe='')}/{quote(name, safe='')}"


def check_state(view: CheckView) -> tuple[str, str]:
    """(CSS class, words) for a check: passing, failing, maintenance or pending."""
    latest = view.latest
    if latest is None:
        return "pending", "not run yet"
    if latest.ok:
        return "passing", "passing after a retry" if latest.attempts > 1 else "passing"
    if view.maintenance is not None:
        return "maintenance", "failing, in maintenance"
    return "failing", "failing"


def check_summary(view: CheckView, texts: Texts) -> str:
    """One line: what failed and what was seen, or how long the latest run took."""
    latest = view.latest
    if latest is None:
        return f"every {every(view.spec.interval)}"
    if latest.ok:
        return format_seconds(latest.duration)
    failed = [f"{o.condition} (saw {o.observed})" for o in latest.observations if not o.ok]
    text = "; ".join(failed) or "; ".join(latest.errors) or "failed"
    text = text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"
    return texts.shown(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRow:
    """One run of the check."""

    started_at: float
    ok: bool
    duration: float
    attempts: int
    failed: list[tuple[str, str]]
    """(condition, observed value) of each condition that failed."""
    errors: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertChange:
    """The check started or stopped alerting."""

    at: float
    state: Literal["firing", "resolved"]
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPage:
    """What the check page shows."""

    view: CheckView
    state: str
    words: str
    summary: str
    results: list[ResultRow]
    chart: Markup
    chart_rows: list[Rollup]
    period: str
    uptime_days: Markup | None
    uptime: str
    alert_changes: list[AlertChange]
    replayed: int
    notified: Notification | None
    pending: list[PendingAlert]
    maintenance: list[str]
    history_error: str


def _row(result: CheckResult, texts: Texts) -> ResultRow:
    failed = [(o.condition, o.observed) for o in result.observations if not o.ok]
    # An error that only restates a failed condition is shown once, with its condition.
    errors = [e for e in result.errors if not any(e.startswith(c) for c, _ in failed)]
    return ResultRow(
        started_at=result.started_at,
        ok=result.ok,
        duration=result.duration,
        attempts=result.attempts,
        failed=[(c, texts.shown(seen)) for c, seen in failed],
        errors=[texts.shown(e) for e in errors],
    )


def alert_changes(view: CheckView, results: list[CheckResult], texts: Texts) -> list[AlertChange]:
    """Firings and resolves over ``results`` (newest first), newest first."""
    spec = view.spec
    state = CheckState()
    changes: list[AlertChange] = []
    for result in reversed(results):
        hold = spec.maintenance.active(result.started_at) is not None
        change = state.observe(
            result,
            failure_threshold=spec.failure_threshold,
            success_threshold=spec.success_threshold,
            hold=hold,
        )
        if change is not None:
            why = "; ".join(result.errors) or ("failing" if change == "firing" else "passing")
            changes.append(
                AlertChange(
                    at=result.started_at,
                    state=change,
                    why=texts.shown(why) if change == "firing" else why,
                )
            )
    return changes[::-1]


async def check_page(
    view: CheckView,
    store: HistoryStore | None,
    *,
    period: str,
    now: float,
    texts: Texts,
) -> CheckPage:
    """The page of one check; without a store, only its latest run is known."""
    length, resolution = RANGES[period]
    step = 3600 if resolution == "hour" else 86400
    since = (now - length) // step * step + step
    results: list[CheckResult] = [view.latest] if view.latest is not None else []
    rollups: list[Rollup] = []
    days = None
    error = ""
    if store is not None:
        try:
            results = await store.results(view.spec.id, limit=REPLAYED_RUNS)
            rollups = await store.rollups(view.spec.id, resolution, since=since, until=now + 1)
            days = await store.uptime(view.spec.id, days=90)
        except HealthwatchError as failure:  # the page still shows what the service knows
            error = str(failure)
    ratio = None if days is None else uptime_ratio(days)
    state, words = check_state(view)
    return CheckPage(
        view=view,
        state=state,
        words=words,
        summary=check_summary(view, texts),
        results=[_row(r, texts) for r in results[:SHOWN_RUNS]],
        chart=percentile_chart(rollups, since=since, until=now, step=step),
        chart_rows=rollups[::-1],
        period=period,
        uptime_days=None if days is None else uptime_days(days),
        uptime=format_ratio(ratio),
        alert_changes=alert_changes(view, results, texts),
        replayed=len(results),
        notified=view.state.notified,
        pending=list(view.state.pending),
        maintenance=[w.describe() for w in view.spec.maintenance.windows],
        history_error=error,
    )
