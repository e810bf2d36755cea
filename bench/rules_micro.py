"""Micro-benchmark of the rule engine alone: lines per second through ``RuleEngine``.

Run: ``.venv/bin/python bench/rules_micro.py [--lines 500000] [--repeat 3]``.

Lines are kernel messages as ``shared/bench-data/gen_kernlog.py`` makes them
(imported by path when it is there, else a small built-in generator of the same
kind: 0.1 % problems, the rest ordinary noise). Each rule set is timed with
``feed`` (one call per line), ``scan`` (batches of 2,000 lines) and, for
reference, the naive mode that runs every rule on every line. The best of
``--repeat`` runs is printed. The log monitor's end-to-end target is 250,000
lines/s; node-problem-detector does about 98,000.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from healthwatch.problems.logmonitor.packs import load_pack
from healthwatch.problems.logmonitor.rules import Rule, RuleEngine, compile_rules

GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "gen_kernlog.py"
BATCH = 2000


def _generator() -> ModuleType | None:
    if not GENERATOR.is_file():
        return None
    spec = importlib.util.spec_from_file_location("gen_kernlog", GENERATOR)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _builtin_noise(rng: random.Random) -> str:
    r = rng.randrange
    return rng.choice(
        [
            f"IPv6: ADDRCONF(NETDEV_CHANGE): veth{r(16**8):08x}: link becomes ready",
            f"cni0: port {r(1, 64)}(veth{r(16**8):08x}) entered forwarding state",
            f"EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null){r(9)}",
            f'audit: type=1400 audit({r(10**9)}.{r(1000)}:{r(10**5)}): apparmor="DENIED"',
            f"java[{r(1, 10**6)}]: segfault at {r(16**12):x} ip {r(16**12):016x} error 4",
            f"kauditd_printk_skb: {r(1, 64)} callbacks suppressed",
        ]
    )


def _builtin_problem(rng: random.Random) -> str:
    return rng.choice(
        [
            f"task java:{rng.randrange(1, 10**6)} blocked for more than 120 seconds.",
            "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: reading directory",
            f"Buffer I/O error on dev sdb, logical block {rng.randrange(10**9)}, async page read",
        ]
    )


def make_lines(count: int, seed: int) -> tuple[list[str], str]:
    """``count`` kernel messages, and where they came from."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    module = _generator()
    noise: Callable[[random.Random], str] = _builtin_noise
    problem: Callable[[random.Random], str] = _builtin_problem
    origin = "built-in generator"
    if module is not None:
        noise = module.noise
        problem = lambda rng: module.problem(rng)[0]  # noqa: E731 - adapts the return value
        origin = str(GENERATOR)
    return [problem(rng) if rng.random() < 0.001 else noise(rng) for _ in range(count)], origin


def _time_feed(engine: RuleEngine, lines: list[str]) -> float:
    feed = engine.feed
    start = time.perf_counter()
    for line in lines:
        feed(line)
    return time.perf_counter() - start


def _time_scan(engine: RuleEngine, lines: list[str]) -> float:
    start = time.perf_counter()
    for low in range(0, len(lines), BATCH):
        engine.scan(lines[low : low + BATCH])
    return time.perf_counter() - start


def measure(rules: tuple[Rule, ...], lines: list[str], repeat: int) -> dict[str, float]:
    """Best lines/s of each mode."""
    ruleset = compile_rules(rules, buffer_size=10)
    best: dict[str, float] = {}
    naive_lines = lines[: max(1, len(lines) // 20)]
    for _ in range(repeat):
        runs = {
            "feed": len(lines) / _time_feed(RuleEngine(ruleset), lines),
            "scan": len(lines) / _time_scan(RuleEngine(ruleset), lines),
            "naive": len(naive_lines) / _time_feed(RuleEngine(ruleset, naive=True), naive_lines),
        }
        for mode, rate in runs.items():
            best[mode] = max(best.get(mode, 0.0), rate)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20257)
    args = parser.parse_args()
    lines, origin = make_lines(args.lines, args.seed)
    print(f"{len(lines)} lines from {origin}")
    kernel = load_pack("kernel")[1]
    everything = tuple(rule for name in ("kernel", "container-runtime", "nvidia-xid", "metax")
                       for rule in load_pack(name)[1])  # fmt: skip
    for label, rules in (("kernel pack", kernel), ("all four packs", everything)):
        rates = measure(rules, lines, args.repeat)
        shown = ", ".join(f"{mode} {rate:,.0f}/s" for mode, rate in rates.items())
        print(f"{label} ({len(rules)} rules): {shown}")


if __name__ == "__main__":
    main()
