"""Maintenance windows: one-off and weekly, across midnight, through DST changes, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from healthwatch.checks.maintenance import (
    NO_MAINTENANCE,
    Maintenance,
    MaintenanceEntry,
    OneOffWindow,
    WeeklyWindow,
    build_maintenance,
)
from healthwatch.checks.spec import build_checks
from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _build(*entries: dict[str, object]) -> Maintenance:
    converted = [msgspec.convert(e, MaintenanceEntry, strict=False) for e in entries]
    return build_maintenance(converted, where=lambda _: "agent.yaml", field="checks[0].maintenance")


def test_no_windows_is_never_maintenance() -> None:
    assert _build() is NO_MAINTENANCE
    assert NO_MAINTENANCE.active(_at("2026-12-01T03:00:00+00:00")) is None


def test_a_one_off_window_includes_its_start_and_excludes_its_end() -> None:
    maintenance = _build({"start": "2026-12-01T02:00:00Z", "end": "2026-12-01T04:00:00+00:00"})
    (window,) = maintenance.windows
    assert isinstance(window, OneOffWindow)
    assert maintenance.active(_at("2026-12-01T01:59:59+00:00")) is None
    assert maintenance.active(_at("2026-12-01T02:00:00+00:00")) is window
    assert maintenance.active(_at("2026-12-01T03:59:59+00:00")) is window
    assert maintenance.active(_at("2026-12-01T04:00:00+00:00")) is None
    assert window.describe() == "2026-12-01T02:00:00Z to 2026-12-01T04:00:00Z"


def test_a_one_off_window_accepts_the_datetimes_yaml_makes_of_unquoted_times() -> None:
    start = datetime(2026, 12, 1, 2, tzinfo=UTC)
    maintenance = _build({"start": start, "end": "2026-12-01T05:00:00+01:00"})
    end = start.timestamp() + 2 * 3600
    assert maintenance.windows == (OneOffWindow(start=start.timestamp(), end=end),)


def test_a_weekly_window_on_its_days_only() -> None:
    maintenance = _build({"days": ["sat", "Sunday"], "from": "02:00", "to": "04:00"})
    (window,) = maintenance.windows
    assert isinstance(window, WeeklyWindow) and window.describe() == "sat,sun 02:00-04:00 UTC"
    assert datetime(2026, 6, 6).weekday() == 5  # a Saturday
    assert maintenance.active(_at("2026-06-06T03:00:00+00:00")) is window
    assert maintenance.active(_at("2026-06-07T02:00:00+00:00")) is window
    assert maintenance.active(_at("2026-06-08T03:00:00+00:00")) is None  # Monday
    assert maintenance.active(_at("2026-06-06T04:00:00+00:00")) is None


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    maintenance = _build({"days": ["sat"], "from": "22:00", "to": "02:00"})
    assert maintenance.active(_at("2026-06-06T21:59:00+00:00")) is None
    assert maintenance.active(_at("2026-06-06T22:00:00+00:00")) is not None
    assert maintenance.active(_at("2026-06-07T01:59:00+00:00")) is not None  # Sunday morning
    assert maintenance.active(_at("2026-06-07T02:00:00+00:00")) is None
    assert maintenance.active(_at("2026-06-07T22:30:00+00:00")) is None  # Sunday evening
    assert maintenance.active(_at("2026-06-06T01:00:00+00:00")) is None  # Saturday morning


def test_a_window_across_midnight_wraps_from_sunday_into_monday() -> None:
    maintenance = _build({"days": ["sun"], "from": "23:00", "to": "24:00"})
    assert maintenance.active(_at("2026-06-07T23:30:00+00:00")) is not None
    assert maintenance.active(_at("2026-06-08T00:00:00+00:00")) is None
    overnight = _build({"days": ["sun"], "from": "23:00", "to": "01:00"})
    assert overnight.active(_at("2026-06-08T00:30:00+00:00")) is not None


def test_local_time_follows_daylight_saving_time() -> None:
    berlin = _build({"days": ["sun"], "from": "02:00", "to": "04:00", "timezone": "Europe/Berlin"})
    # An ordinary winter Sunday: 02:00-04:00 CET is 01:00-03:00 UTC.
    assert berlin.active(_at("2026-03-22T00:59:00+00:00")) is None
    assert berlin.active(_at("2026-03-22T01:00:00+00:00")) is not None
    assert berlin.active(_at("2026-03-22T02:59:00+00:00")) is not None
    assert berlin.active(_at("2026-03-22T03:00:00+00:00")) is None
    # Clocks go forward at 02:00 on 29 March: 02:00 does not exist, the window lasts one hour.
    assert berlin.active(_at("2026-03-29T00:59:00+00:00")) is None
    assert berlin.active(_at("2026-03-29T01:00:00+00:00")) is not None
    assert berlin.active(_at("2026-03-29T01:59:00+00:00")) is not None
    assert berlin.active(_at("2026-03-29T02:00:00+00:00")) is None
    # Clocks go back at 03:00 on 25 October: 02:00-03:00 happens twice, the window lasts three.
    assert berlin.active(_at("2026-10-24T23:59:00+00:00")) is None
    assert berlin.active(_at("2026-10-25T00:00:00+00:00")) is not None
    assert berlin.active(_at("2026-10-25T02:59:00+00:00")) is not None
    assert berlin.active(_at("2026-10-25T03:00:00+00:00")) is None


def test_every_day_when_days_are_left_out_and_unquoted_yaml_times() -> None:
    # YAML 1.1 reads an unquoted 22:30 as the base-60 integer 1350.
    maintenance = _build({"from": 1350, "to": "23:00"})
    (window,) = maintenance.windows
    assert isinstance(window, WeeklyWindow) and len(window.days) == 7
    assert maintenance.active(_at("2026-06-10T22:45:00+00:00")) is not None


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ({"start": "2026-12-01T02:00:00Z"}, "[0].end", "needs both start and end"),
        ({"end": "2026-12-01T02:00:00Z"}, "[0].start", "needs both start and end"),
        (
            {"start": "2026-12-01T04:00:00Z", "end": "2026-12-01T02:00:00Z"},
            "[0].end",
            "must be after start",
        ),
        (
            {"start": "2026-12-01T02:00:00Z", "end": "2026-12-01T04:00:00Z", "days": ["mon"]},
            "[0]",
            "not both",
        ),
        ({"days": ["mon"]}, "[0].from", "needs start and end, or from and to"),
        ({"from": "02:00"}, "[0].to", "needs start and end, or from and to"),
        ({"from": "2am", "to": "04:00"}, "[0].from", "time of day"),
        ({"from": "24:00", "to": "04:00"}, "[0].from", "between 00:00 and 23:59"),
        ({"from": "02:00", "to": "24:30"}, "[0].to", "time of day"),
        ({"from": "02:00", "to": "02:00"}, "[0].to", "must differ from from"),
        ({"from": -5, "to": "02:00"}, "[0].from", "time of day"),
        ({"from": "02:00", "to": "03:00", "days": ["funday"]}, "[0].days", "unknown day"),
        ({"from": "02:00", "to": "03:00", "days": []}, "[0].days", "at least one day"),
        ({"from": "02:00", "to": "03:00", "timezone": "Mars/Olympus"}, "[0].timezone", "zone"),
        ({"from": "02:00", "to": "03:00", "timezone": "../../etc/passwd"}, "[0].timezone", "zone"),
        ({"from": "02:00", "to": "03:00", "timezone": ""}, "[0].timezone", "zone"),
    ],
)
def test_bad_windows_name_the_field_and_the_problem(
    entry: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _build(entry)
    assert str(caught.value).startswith(f"agent.yaml: checks[0].maintenance{field}: ")
    assert message in str(caught.value)


def test_errors_from_a_file_name_the_line_and_naive_times_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "checks:\n"
        "  - name: web\n"
        "    kind: http\n"
        "    url: http://127.0.0.1:1/\n"
        "    maintenance:\n"
        "      - {days: [sun], from: '02:00', to: '04:00', timezone: Europe/Berlin}\n"
        "      - {days: [sun], from: '02:00', to: '04:00', timezone: Nowhere/Land}\n"
    )
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    with pytest.raises(ConfigError) as caught:
        build_checks(data["checks"], source=str(path), lines=lines)
    assert str(caught.value).startswith(f"{path}:7: checks[0].maintenance[1].timezone: ")
    assert "'Nowhere/Land'" in str(caught.value)

    path.write_text(
        "checks:\n"
        "  - name: web\n"
        "    kind: http\n"
        "    url: http://127.0.0.1:1/\n"
        "    maintenance:\n"
        "      - {start: 2026-12-01T02:00:00, end: 2026-12-01T04:00:00Z, until: x}\n"
    )
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    with pytest.raises(ConfigError, match=r"checks\[0\]\.maintenance\[0\]"):
        build_checks(data["checks"], source=str(path), lines=lines)
    path.write_text(
        "checks:\n"
        "  - name: web\n"
        "    kind: http\n"
        "    url: http://127.0.0.1:1/\n"
        "    maintenance:\n"
        "      - {start: 2026-12-01T02:00:00, end: 2026-12-01T04:00:00Z}\n"
    )
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    with pytest.raises(ConfigError, match=r"maintenance\[0\]\.start: .*timezone"):
        build_checks(data["checks"], source=str(path), lines=lines)


def test_too_many_windows_are_refused() -> None:
    windows: list[dict[str, object]] = [{"from": "02:00", "to": "03:00"}] * 101
    with pytest.raises(ConfigError, match="at most 100 windows"):
        _build(*windows)


def test_a_check_without_maintenance_has_none() -> None:
    (spec,) = build_checks([{"name": "w", "kind": "http", "url": "http://h/"}], source="a.yaml")
    assert spec.maintenance is NO_MAINTENANCE and spec.alerts is None
