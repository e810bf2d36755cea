"""What every benchmark does with its figures: judge the machine's load, print, write JSON.

Benchmarks run as scripts (``python bench/NAME.py``), so this module is found
beside them on the path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["load_note", "write_results"]


def load_note(load: float, *, steady: str = "sizes") -> str:
    """What the machine's load means for these figures (``steady``: what noise leaves alone)."""
    cpus = os.cpu_count() or 1
    if load >= cpus:
        return (
            f"shared machine: load average {load:.1f} on {cpus} cores during the run, so "
            f"timings are noisy ({steady} are not)"
        )
    return f"load average {load:.1f} on {cpus} cores"


def write_results(path: Path, figures: Mapping[str, object]) -> None:
    """Print each figure and write them all to ``path`` as JSON."""
    for key, value in figures.items():
        print(f"{key}: {value}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {path}")
