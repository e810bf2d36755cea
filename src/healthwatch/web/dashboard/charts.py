"""Inline SVG for the dashboard: uptime bars, latency sparklines and the percentile chart.

Drawn on the server as small SVG fragments, so the pages need no script and no
outside asset to show history. Colours come from CSS classes (the stylesheet
follows the light or dark system setting); the only text inside is numbers and
dates we format, and it is escaped all the same. Each chart carries an
``aria-label`` saying in words what it shows. The overview's bar merges runs of
days in the same state into one rectangle, so a thousand checks stay light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from healthwatch.store.rollups import Rollup, UptimeDay

__all__ = [
    "DayState",
    "day_state",
    "format_ratio",
    "format_seconds",
    "percentile_chart",
    "sparkline",
    "uptime_bar",
    "uptime_days",
    "uptime_ratio",
]

DayState = str
"""``none`` (no runs), ``up`` (no failure), ``partial`` (under 10 % failed) or ``down``."""
_PARTIAL_LIMIT = 0.1


def day_state(day: UptimeDay) -> DayState:
    """How one day of runs looks on the bar."""
    if day.count == 0:
        return "none"
    if day.failures == 0:
        return "up"
    return "partial" if day.failures / day.count < _PARTIAL_LIMIT else "down"


def uptime_ratio(days: Sequence[UptimeDay]) -> float | None:
    """Share of passed runs over ``days``; None without runs."""
    runs = sum(d.count for d in days)
    return None if runs == 0 else 1 - sum(d.failures for d in days) / runs


def format_seconds(seconds: float | None) -> str:
    """``850µs``, ``42ms``, ``1.25s``; an em dash for None."""
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds == 0:
        return "0"
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f}µs"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds >= 0.01 else f"{seconds * 1000:.1f}ms"
    return f"{seconds:.2f}s"


def format_ratio(ratio: float | None) -> str:
    """``100%``, ``99.98%`` (rounded down, so a failure never shows as 100%); empty for None."""
    if ratio is None:
        return ""
    if ratio >= 1:
        return "100%"
    return f"{math.floor(ratio * 10000) / 100:.2f}%"


def _date(at: float, *, hours: bool = False) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%m-%d %H:%M" if hours else "%Y-%m-%d")


def _summary(days: Sequence[UptimeDay]) -> str:
    states = [day_state(d) for d in days]
    ratio = uptime_ratio(days)
    shown = "no runs" if ratio is None else f"{ratio * 100:.2f}% of runs passed"
    counts = ", ".join(
        f"{states.count(s)} {word}"
        for s, word in (("up", "up"), ("partial", "partly failing"), ("down", "failing"))
        if states.count(s)
    )
    return f"{len(days)}-day uptime: {shown}" + (f"; days {counts}" if counts else "")


def uptime_bar(days: Sequence[UptimeDay]) -> Markup:
    """The overview's bar: up days are its background, other runs of days rectangles on it.

    A thousand of them share one page, so every byte counts: a check up all along
    is an empty element, the viewBox has the aspect of the drawn size (nothing to
    stretch) and attributes go unquoted. It is hidden from screen readers: the
    uptime is written beside it, and the check page has a bar labelled day by day.
    """
    width = max(len(days), 1)
    rects: list[str] = []
    start = 0
    for index in range(1, len(days) + 1):
        if index == len(days) or day_state(days[index]) != day_state(days[start]):
            state = day_state(days[start])
            if state != "up":
                x = f"x={start} " if start else ""
                rects.append(f"<rect {x}width={index - start} height=9 class={state} />")
            start = index
    if not rects:
        return Markup("<svg class=ub aria-hidden=true></svg>")
    return Markup(  # noqa: S704 - numbers and fixed words only
        f'<svg class=ub viewBox="0 0 {width} {width / 10:g}" aria-hidden=true>'
        + "".join(rects)
        + "</svg>"
    )


def uptime_days(days: Sequence[UptimeDay]) -> Markup:
    """The check page's bar: one rectangle per day, each with a tooltip naming the day."""
    width = max(len(days), 1) * 4
    parts = [
        f'<svg class="ubd" viewBox="0 0 {width} 20" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(_summary(days))}">'
    ]
    for index, day in enumerate(days):
        tip = f"{_date(day.start)}: {day.count} runs, {day.failures} failed"
        parts.append(
            f'<rect x="{index * 4}" width="3" height="20" class="{day_state(day)}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped text only


def _path(values: Sequence[float | None], *, top: float, step: float, height: float) -> str:
    """An SVG path through the values, broken where a value is missing; a lone value is a dash.

    Points after the first of a stretch are implicit line-tos (``M0 3 2 1 4 2``).
    """
    out: list[str] = []
    for index, value in enumerate(values):
        if value is None:
            continue
        x = index * step
        y = height - (value / top) * height if top > 0 else height / 2
        joined = index > 0 and values[index - 1] is not None
        out.append(f"{' ' if joined else 'M'}{x:.0f} {y:.0f}")
        alone = not joined and (index + 1 >= len(values) or values[index + 1] is None)
        if alone:
            out.append(f"h{-1 if index else 1}")
    return "".join(out)


def sparkline(values: Sequence[float | None]) -> Markup:
    """A small latency line from its lowest to its highest value; gaps where there were no runs.

    Hidden from screen readers like the overview's bar: the latest latency is written
    beside it, and the check page has the chart with its numbers.
    """
    known = [v for v in values if v is not None]
    width = max(len(values) - 1, 1) * 2
    if not known:
        return Markup(  # noqa: S704 - numbers only
            f'<svg class=sl viewBox="0 0 {width} 9" aria-hidden=true></svg>'
        )
    low, high = min(known), max(known)
    shifted = [None if v is None else v - low for v in values]
    d = _path(shifted, top=high - low, step=2, height=8)
    return Markup(  # noqa: S704 - numbers only
        f'<svg class=sl viewBox="0 0 {width} 9" aria-hidden=true><path d="{d}"/></svg>'
    )


def _peak(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _latency(rollup: Rollup | None, name: str) -> float | None:
    if rollup is None:
        return None
    return {"p50": rollup.latency_p50, "p90": rollup.latency_p90, "p99": rollup.latency_p99}[name]


@dataclass(frozen=True, slots=True)
class _Series:
    name: str
    values: list[float | None]


def percentile_chart(rollups: Sequence[Rollup], *, since: float, until: float, step: int) -> Markup:
    """p50, p90 and p99 latency per bucket of ``step`` seconds from ``since`` to ``until``."""
    buckets = max(1, math.ceil((until - since) / step))
    by_start = {int(r.start): r for r in rollups}
    first = int(since // step * step)
    starts = [first + i * step for i in range(buckets)]
    series = [
        _Series(name, [_latency(by_start.get(s), name) for s in starts])
        for name in ("p50", "p90", "p99")
    ]
    known = [v for s in series for v in s.values if v is not None]
    if not known:
        return Markup('<p class="muted">No runs recorded in this period.</p>')
    width, height, left, bottom = 600, 200, 56, 20
    top = max(known) * 1.1
    plot_w, plot_h = width - left - 8, height - bottom - 8
    step_x = plot_w / max(buckets - 1, 1)
    label = (
        f"Latency percentiles from {_date(since)} to {_date(until)}: "
        f"median up to {format_seconds(_peak(series[0].values))}, "
        f"99th percentile up to {format_seconds(_peak(series[2].values))}"
    )
    parts = [
        f'<svg class="pc" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f'<g transform="translate({left} 8)">',
        f'<line class="axis" x1="0" y1="{plot_h}" x2="{plot_w}" y2="{plot_h}"/>',
        f'<line class="axis" x1="0" y1="0" x2="0" y2="{plot_h}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = plot_h - fraction * plot_h
        parts.append(
            f'<line class="grid" x1="0" y1="{y:.0f}" x2="{plot_w}" y2="{y:.0f}"/>'
            f'<text class="tick" x="-6" y="{y + 4:.0f}" text-anchor="end">'
            f"{escape(format_seconds(top * fraction))}</text>"
        )
    for index, anchor in ((0, "start"), (buckets // 2, "middle"), (buckets - 1, "end")):
        parts.append(
            f'<text class="tick" x="{index * step_x:.0f}" y="{plot_h + 16}" '
            f'text-anchor="{anchor}">{escape(_date(starts[index], hours=step < 86400))}</text>'
        )
    for item in series:
        d = _path(item.values, top=top, step=step_x, height=plot_h)
        parts.append(f'<path class="{item.name}" d="{d}"/>')
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped text only
