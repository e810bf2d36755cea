"""The ``gpu:`` section: defaults, every setting, errors naming file, line, field and value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from healthwatch.config.yamlfile import load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.gpu.config import GpuConfig, build_gpu_config, default_gpu_config
from healthwatch.problems.gpu.xids import DEFAULT_FATAL_XIDS


def _load(tmp_path: Path, text: str) -> GpuConfig:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    data, lines = load_yaml(path)
    assert isinstance(data, dict)
    return build_gpu_config(data.get("gpu"), source=str(path), lines=lines, prefix="gpu")


def test_defaults() -> None:
    config = default_gpu_config()
    assert config == GpuConfig()
    assert (config.enabled, config.interval, config.timeout) == ("auto", 30.0, 10.0)
    assert {79, 48, 74, 92, 94, 95, 119, 120} <= config.fatal_xids
    assert not {13, 31, 43, 45, 68, 109} & config.fatal_xids
    assert config.temperature_threshold is None


def test_a_missing_section_gives_the_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, "node_name: a\n")
    assert config.fatal_xids == DEFAULT_FATAL_XIDS
    assert config.origin.endswith("agent.yaml (gpu)")


def test_every_setting(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "gpu:\n"
        "  name: gpus\n"
        "  enabled: true\n"
        "  interval: 1m\n"
        "  timeout: 500ms\n"
        "  fatal_xids: [48, 79]\n"
        "  ignore_xids: [13]\n"
        "  temperature_threshold: 87.5\n",
    )
    assert config == GpuConfig(
        name="gpus",
        enabled=True,
        interval=60.0,
        timeout=0.5,
        fatal_xids=frozenset({48, 79}),
        ignore_xids=frozenset({13}),
        temperature_threshold=87.5,
        origin=config.origin,
    )


def test_ignored_codes_leave_the_default_fatal_set(tmp_path: Path) -> None:
    config = _load(tmp_path, "gpu:\n  ignore_xids: [92, 94]\n")
    assert config.fatal_xids == DEFAULT_FATAL_XIDS - {92, 94}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  interval: -5s\n", r":3: gpu\.interval: a duration must not be negative \(got '-5s'\)"),
        ("  interval: 0\n", r":3: gpu\.interval: must be between 1s and 86400s \(got 0\)"),
        ("  interval: soon\n", r":3: gpu\.interval: expected a duration .*\(got 'soon'\)"),
        ("  timeout: -0.5\n", r":3: gpu\.timeout: a duration must not be negative \(got -0\.5\)"),
        ("  timeout: 10m\n", r":3: gpu\.timeout: must be between 0\.001s and 300s \(got '10m'\)"),
        ("  interval: [30]\n", r":3: gpu\.interval: Expected `int \| float \| str`, got `array`"),
        ("  enabled: sometimes\n", r":3: gpu\.enabled: Invalid enum value 'sometimes'"),
        ("  fatal_xids: 79\n", r":3: gpu\.fatal_xids: Expected `array \| null`, got `int`"),
        ("  ignore_xids: [yes]\n", r":3: gpu\.ignore_xids\[0\]: Expected `int`, got `bool`"),
        ("  temperature_threshold: hot\n", r":3: gpu\.temperature_threshold: Expected `float"),
        ("  temperature_threshold: -4\n", r":3: gpu\.temperature_threshold: must be above 0"),
        ("  colour: green\n", r":3: gpu: Object contains unknown field `colour`"),
        (
            "  fatal_xids: [79, 0]\n",
            r"gpu\.fatal_xids\[1\]: an Xid is a number from 1 to 999 \(got 0\)",
        ),
        ("  ignore_xids: [1000]\n", r"gpu\.ignore_xids\[0\]: an Xid is .* \(got 1000\)"),
        ("  fatal_xids: [-79]\n", r"gpu\.fatal_xids\[0\]: an Xid is .* \(got -79\)"),
        ("  fatal_xids: [79, 79]\n", r"gpu\.fatal_xids\[1\]: listed twice \(got 79\)"),
        (
            "  fatal_xids: [79]\n  ignore_xids: [79]\n",
            r"gpu\.ignore_xids\[0\]: also listed in fatal_xids \(got 79\)",
        ),
        ("  name: ''\n", r":3: gpu\.name: must be 1 to 64 characters \(got ''\)"),
    ],
)
def test_bad_settings_are_errors_naming_file_line_field_and_value(
    tmp_path: Path, body: str, expected: str
) -> None:
    with pytest.raises(
        ConfigError, match=f"^{re.escape(str(tmp_path))}/agent\\.yaml:\\d+: "
    ) as caught:
        _load(tmp_path, "node_name: a\ngpu:\n" + body)
    assert caught.match(expected)


@pytest.mark.parametrize("raw", [[1, 2], "on", 5])
def test_the_section_must_be_a_mapping(raw: object) -> None:
    with pytest.raises(ConfigError, match=r"^agent\.yaml: gpu: expected a mapping of GPU settings"):
        build_gpu_config(raw, source="agent.yaml", lines=None)
