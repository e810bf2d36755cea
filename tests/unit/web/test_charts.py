"""The dashboard's inline SVG: uptime bars, sparklines and the percentile chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from healthwatch.store.rollups import Rollup, UptimeDay
from healthwatch.web.dashboard.charts import (
    day_state,
    format_ratio,
    format_seconds,
    percentile_chart,
    sparkline,
    uptime_bar,
    uptime_days,
    uptime_ratio,
)
from healthwatch.web.dashboard.context import ago, every, utc

DAY = 86400.0
SVG = "{http://www.w3.org/2000/svg}"


def days(*counts: tuple[int, int]) -> list[UptimeDay]:
    return [UptimeDay(start=i * DAY, count=c, failures=f) for i, (c, f) in enumerate(counts)]


def parse(markup: str) -> ET.Element:
    """The SVG as XML: attribute values quoted (HTML lets them go bare), the namespace added."""
    text = re.sub(r'(\w+)=([^"\s>]+)', r'\1="\2"', str(markup))
    text = text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return ET.fromstring(text)  # noqa: S314 - our own markup, not untrusted data


def test_a_day_is_up_partial_down_or_empty() -> None:
    states = [day_state(d) for d in days((0, 0), (10, 0), (100, 9), (100, 10), (1, 1))]
    assert states == ["none", "up", "partial", "down", "down"]
    assert uptime_ratio(days((0, 0))) is None
    assert uptime_ratio(days((90, 0), (10, 10))) == 0.9


def test_the_overview_bar_draws_only_what_was_not_up() -> None:
    ninety = days(*([(1440, 0)] * 87 + [(1440, 1000), (1440, 1000), (1440, 10)] + [(0, 0)]))
    svg = parse(uptime_bar(ninety))
    assert svg.get("viewBox") == "0 0 91 9.1"
    rects = svg.findall(f"{SVG}rect")
    assert [(r.get("x"), r.get("width"), r.get("class")) for r in rects] == [
        ("87", "2", "down"),
        ("89", "1", "partial"),
        ("90", "1", "none"),
    ]
    assert svg.get("aria-hidden") == "true"  # the uptime is written beside it
    healthy = uptime_bar(days(*([(1440, 0)] * 90)))
    assert str(healthy) == "<svg class=ub aria-hidden=true></svg>"  # the background says it


def test_the_check_page_bar_has_one_rectangle_per_day_with_a_tooltip() -> None:
    svg = parse(uptime_days(days((5, 1), (0, 0))))
    rects = svg.findall(f"{SVG}rect")
    assert len(rects) == 2
    assert rects[0].findtext(f"{SVG}title") == "1970-01-01: 5 runs, 1 failed"


def test_a_sparkline_spans_its_range_breaks_at_gaps_and_shows_lone_points() -> None:
    line = parse(sparkline([0.01, 0.02, None, 0.04, None]))
    assert line.get("viewBox") == "0 0 8 9"
    d = line.find(f"{SVG}path").get("d")  # type: ignore[union-attr]
    assert d == "M0 8 2 5M6 0h-1"  # lowest at the bottom, highest at the top
    assert parse(sparkline([0.5, 0.5])).find(f"{SVG}path").get("d") == "M0 4 2 4"  # type: ignore[union-attr]
    empty = parse(sparkline([None, None]))
    assert empty.find(f"{SVG}path") is None


def test_the_percentile_chart_draws_three_lines_with_axes() -> None:
    rollups = [
        Rollup(
            check_id="a/b",
            start=h * 3600.0,
            count=60,
            failures=0,
            latency_p50=0.01 * h,
            latency_p90=0.02 * h,
            latency_p95=0.025 * h,
            latency_p99=0.03 * h,
            latency_max=0.05 * h,
        )
        for h in range(1, 5)
    ]
    chart = parse(percentile_chart(rollups, since=0.0, until=5 * 3600.0, step=3600))
    paths = {p.get("class"): p.get("d") for p in chart.iter(f"{SVG}path")}
    assert set(paths) == {"p50", "p90", "p99"}
    assert all(d and d.startswith("M") for d in paths.values())
    ticks = [t.text for t in chart.iter(f"{SVG}text")]
    assert "0" in ticks and "01-01 00:00" in ticks
    assert "99th percentile up to 120ms" in (chart.get("aria-label") or "")
    assert "No runs" in percentile_chart([], since=0.0, until=3600.0, step=3600)


def test_durations_and_times_are_worded_for_people() -> None:
    assert [format_ratio(r) for r in (None, 1.0, 0.99999, 0.5)] == ["", "100%", "99.99%", "50.00%"]
    assert [format_seconds(v) for v in (None, 0, 0.0004, 0.0042, 0.042, 1.5)] == [
        "—",
        "0",
        "400µs",
        "4.2ms",
        "42ms",
        "1.50s",
    ]
    assert utc(0) == "1970-01-01 00:00:00 UTC" and utc(None) == "—"
    assert [ago(100 - d, 100) for d in (5, 125, 7300, 200000)] == ["5s ago", "2m ago", "2h ago",
                                                                    "2d ago"]  # fmt: skip
    assert ago(160, 100) == "in 1m" and ago(None, 1) == ""
    assert [every(s) for s in (1.0, 1.5, 30.0, 300.0, 5400.0, 90061.0)] == [
        "1s",
        "1.5s",
        "30s",
        "5m",
        "1h30m",
        "1d1h1m1s",
    ]


def test_the_drawings_hold_only_their_own_elements() -> None:
    for markup in (uptime_bar(days((1, 1))), sparkline([0.1]), uptime_days(days((1, 0)))):
        assert not re.search(r"<(?!/?(svg|rect|path|title)\b)", str(markup))
