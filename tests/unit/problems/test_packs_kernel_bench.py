"""The kernel pack (and NPD's kernel monitor, loaded by us) give the benchmark's expected counts.

``shared/bench-data/gen_kernlog.py`` writes a kern.log and a sidecar with the
``problem_counter`` values NPD's kernel-monitor rules must produce. We generate
a small file with it, match every message with our engine, count as NPD counts
(a temporary rule per match, a permanent rule when its condition changes) and
compare with the sidecar, for our kernel pack and for NPD's rules as NPD JSON.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pytest

from healthwatch.problems.logmonitor.config import load_npd_system_log_monitor
from healthwatch.problems.logmonitor.packs import load_pack
from healthwatch.problems.logmonitor.rules import Rule, RuleEngine, compile_rules

GENERATOR = Path(__file__).resolve().parents[4] / "shared" / "bench-data" / "gen_kernlog.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    if not GENERATOR.is_file():
        pytest.skip(f"benchmark generator not found at {GENERATOR}")
    spec = importlib.util.spec_from_file_location("gen_kernlog", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(
    generator: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("kernlog") / "kern.log"
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--out",
            str(out),
            "--lines",
            "30000",
            "--match-ratio",
            "0.03",
            "--seed",
            "7",
            "--start",
            "1700000000",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    sidecar = json.loads(Path(f"{out}.expected.json").read_text())
    return out, sidecar["expected_problem_counter"]


def npd_counts(engine: RuleEngine, messages: Iterable[str]) -> Counter[str]:
    """problem_counter as NPD increments it."""
    counts: Counter[str] = Counter()
    condition_reason: dict[str, str] = {}
    for message in messages:
        for match in engine.feed(message) or []:
            rule: Rule = match.rule
            if rule.kind == "temporary":
                counts[rule.reason] += 1
            elif rule.condition and condition_reason.get(rule.condition) != rule.reason:
                condition_reason[rule.condition] = rule.reason
                counts[rule.reason] += 1
    return counts


def messages_of(path: Path, extract: object) -> list[str]:
    assert callable(extract)
    with path.open(encoding="utf-8") as lines:
        found = [extract(line.rstrip("\n")) for line in lines]
    return [m for m in found if m is not None]


def same(got: Counter[str], expected: dict[str, int]) -> None:
    for reason in set(got) | set(expected):
        assert got.get(reason, 0) == expected.get(reason, 0), reason


def test_the_kernel_pack_gives_the_expected_counts(
    generated: tuple[Path, dict[str, int]], generator: ModuleType
) -> None:
    path, expected = generated
    assert sum(expected.values()) > 100  # the sample holds problems of most kinds
    config = load_npd_system_log_monitor(_npd_file(path, generator))
    _, rules = load_pack("kernel")
    engine = RuleEngine(compile_rules(rules, buffer_size=10))
    same(npd_counts(engine, messages_of(path, config.extract_message)), expected)


def test_npd_kernel_monitor_rules_loaded_by_us_give_the_expected_counts(
    generated: tuple[Path, dict[str, int]], generator: ModuleType
) -> None:
    path, expected = generated
    config = load_npd_system_log_monitor(_npd_file(path, generator))
    assert (config.source, config.timestamp_format) == ("file", "Jan _2 15:04:05")
    same(
        npd_counts(RuleEngine(config.ruleset), messages_of(path, config.extract_message)), expected
    )
    naive = RuleEngine(config.ruleset, naive=True)
    same(npd_counts(naive, messages_of(path, config.extract_message)), expected)


def test_every_generated_line_has_a_timestamp_we_can_parse(
    generated: tuple[Path, dict[str, int]], generator: ModuleType
) -> None:
    path, _ = generated
    config = load_npd_system_log_monitor(_npd_file(path, generator))
    with path.open(encoding="utf-8") as lines:
        first = next(lines)
    stamp = config.parse_timestamp(first)
    assert stamp is not None
    # no year in the traditional format: month, day and time are the generator's start
    assert time.localtime(stamp)[1:6] == time.localtime(1700000000)[1:6]


def _npd_file(log: Path, generator: ModuleType) -> Path:
    file = log.with_suffix(".monitor.json")
    if not file.exists():
        file.write_text(json.dumps(generator.kernel_monitor_config(str(log))))
    return file
