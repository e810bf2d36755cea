"""The ``history:`` config section: defaults, durations, and every kind of bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.store import Retention
from healthwatch.store.config import HistorySettings, parse_history

DAY = 86400.0


def section_of(tmp_path: Path, text: str) -> tuple[object, dict[str, int], str]:
    """The ``history`` value of a real YAML file, its line map and its name."""
    path = tmp_path / "healthwatch.yaml"
    path.write_text(text)
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    return data.get("history"), lines, str(path)


def test_defaults_match_the_store() -> None:
    assert parse_history(None, source="embedded default") == HistorySettings(
        retention=Retention(), prune_interval=600.0
    )
    assert Retention() == Retention(raw=30 * DAY, hourly=366 * DAY, daily=400 * DAY)


def test_durations_as_people_write_them(tmp_path: Path) -> None:
    data, lines, source = section_of(
        tmp_path,
        "agent: {}\nhistory:\n  raw_retention: 7d\n  hourly_retention: 90d\n"
        "  daily_retention: 2w\n  prune_interval: 3600\n",
    )
    assert parse_history(data, source=source, lines=lines) == HistorySettings(
        retention=Retention(raw=7 * DAY, hourly=90 * DAY, daily=14 * DAY), prune_interval=3600.0
    )
    partial, lines, source = section_of(tmp_path, "history:\n  hourly_retention: 90d\n")
    settings = parse_history(partial, source=source, lines=lines)
    assert settings.retention == Retention(hourly=90 * DAY)


@pytest.mark.parametrize(
    ("body", "line", "field", "problem"),
    [
        ("  raw_retention: -1d\n", 2, "history.raw_retention", "expected a duration"),
        ("  raw_retention: 0s\n", 2, "history.raw_retention", "at least 1h"),
        ("  hourly_retention: 30m\n", 2, "history.hourly_retention", "at least 1h"),
        ("  daily_retention: 11y\n", 2, "history.daily_retention", "expected a duration"),
        ("  daily_retention: 4000d\n", 2, "history.daily_retention", "out of range"),
        ("  daily_retention: true\n", 2, "history.daily_retention", "Expected"),
        ("  daily_retention: [1]\n", 2, "history.daily_retention", "Expected"),
        ("  prune_interval: 0.5\n", 2, "history.prune_interval", "between 1s and 1d"),
        ("  prune_interval: 2d\n", 2, "history.prune_interval", "between 1s and 1d"),
        ("  retention: 30d\n", 2, "history", "unknown field `retention`"),
    ],
)
def test_bad_values_name_file_line_field_and_value(
    tmp_path: Path, body: str, line: int, field: str, problem: str
) -> None:
    data, lines, source = section_of(tmp_path, "history:\n" + body)
    with pytest.raises(ConfigError, match=problem) as caught:
        parse_history(data, source=source, lines=lines)
    message = str(caught.value)
    assert message.startswith(f"{source}:{line}:"), message
    assert field in message


@pytest.mark.parametrize("text", ["history: 30d\n", "history: [1, 2]\n", "history: 5\n"])
def test_the_section_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    data, lines, source = section_of(tmp_path, text)
    with pytest.raises(ConfigError, match="history: expected a mapping") as caught:
        parse_history(data, source=source, lines=lines)
    assert str(caught.value).startswith(f"{source}:1:")
