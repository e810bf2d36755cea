"""Fake ``systemctl``, ``journalctl``, ``crictl``, ``docker`` for service monitor tests; helpers.

The programs are small Python scripts written into a temporary ``bin`` directory
that the test puts first on ``PATH``. They act on a JSON state file the test
edits, and each appends its argv (as JSON) to a log, so a test can assert the
exact commands run. The commands get a minimal environment, so the scripts find
their state through the absolute path written into them, not through variables.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from healthwatch.aio.clock import ManualClock
from healthwatch.model.metrics import MetricFamily
from healthwatch.problems.servicemonitor.config import build_service_monitor
from healthwatch.problems.servicemonitor.monitor import ServiceMonitor
from healthwatch.problems.servicemonitor.systemd import SHOW_PROPERTIES

__all__ = ["SHOW", "STARTED", "WALL", "FakeHost", "entry", "family", "monitor", "single"]

WALL = 1_700_000_000.0
"""The manual clock's wall time in these tests."""
STARTED = WALL - 1000
"""When the fake unit last started."""
SHOW = ["show", f"--property={SHOW_PROPERTIES}", "--timestamp=unix", "--"]
"""``systemctl show`` arguments before the unit name."""

_SCRIPT = r"""
import json, os, sys, time

STATE = {state!r}
CALLS = {calls!r}
name = os.path.basename(sys.argv[0])
with open(CALLS, "a", encoding="utf-8") as log:
    log.write(json.dumps({{"program": name, "argv": sys.argv[1:]}}) + "\n")
with open(STATE, encoding="utf-8") as f:
    state = json.load(f)
if name in state.get("hang", []):
    time.sleep(60)
args = sys.argv[1:]

def option(flag):
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None

if name == "systemctl":
    if args[:1] == ["kill"]:
        sys.stderr.write(state.get("kill_stderr", ""))
        sys.exit(state.get("kill_exit", 0))
    if state.get("old_systemd") and any(a.startswith("--timestamp") for a in args):
        sys.stderr.write("systemctl: unrecognized option '--timestamp=unix'\n")
        sys.exit(1)
    if state.get("show_exit"):
        sys.stderr.write("Failed to connect to bus: No such file or directory\n")
        sys.exit(state["show_exit"])
    for key, value in state["show"].items():
        sys.stdout.write(f"{{key}}={{value}}\n")
elif name == "journalctl":
    if state.get("old_journalctl") and any(a.startswith("--output-fields") for a in args):
        sys.stderr.write("journalctl: unrecognized option '--output-fields=MESSAGE'\n")
        sys.exit(1)
    if state.get("journal_bytes"):
        line = json.dumps({{
            "__CURSOR": "s=big;i=1",
            "__REALTIME_TIMESTAMP": "9999999999000000",
            "MESSAGE": "x" * 200,
        }})
        chunk = (line + "\n").encode() * 1000
        left = state["journal_bytes"]
        while left > 0:
            sys.stdout.buffer.write(chunk[:left])
            left -= len(chunk)
        sys.exit(0)
    since = float(option("--since").lstrip("@"))
    after = option("--after-cursor")
    first = int(after.rpartition("=")[2]) + 1 if after else 0
    if after and state.get("forget_cursors"):
        sys.stderr.write("Failed to seek to cursor: Invalid argument\n")
        sys.exit(1)
    for index, item in enumerate(state.get("journal", [])):
        if index < first or item["t"] < since:
            continue
        sys.stdout.write(json.dumps({{
            "__CURSOR": f"s=fake;i={{index}}",
            "__REALTIME_TIMESTAMP": str(int(item["t"] * 1e6)),
            "MESSAGE": item["msg"],
        }}) + "\n")
elif name in ("crictl", "docker"):
    code = state.get(name + "_exit", 0)
    if code:
        sys.stderr.write(f"{{name}}: cannot connect to the runtime\n")
    else:
        sys.stdout.write("POD ID   CREATED   STATE   NAME\n")
    sys.exit(code)
"""


def entry(t: float, msg: str) -> dict[str, Any]:
    """A journal entry of the fake journal."""
    return {"t": t, "msg": msg}


class FakeHost:
    """The fake programs, their state and the log of their calls."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.state_file = root / "fake-state.json"
        self.calls_file = root / "fake-calls.jsonl"
        self.calls_file.touch()
        self.state: dict[str, Any] = {
            "show": {
                "LoadState": "loaded",
                "ActiveState": "active",
                "SubState": "running",
                "MainPID": 4242,
                "InactiveExitTimestamp": "@1699999000",
                "NRestarts": 0,
            },
            "journal": [],
        }
        self.save()
        script = _SCRIPT.format(state=str(self.state_file), calls=str(self.calls_file))
        for program in ("systemctl", "journalctl", "crictl", "docker"):
            path = self.bin / program
            path.write_text(f"#!{sys.executable} -S\n{script}", encoding="utf-8")
            path.chmod(0o755)
        monkeypatch.setenv("PATH", str(self.bin))

    def save(self) -> None:
        """Write the state for the next command."""
        self.state_file.write_text(json.dumps(self.state), encoding="utf-8")

    def set(self, **changes: Any) -> None:
        """Change top-level state keys and save."""
        self.state.update(changes)
        self.save()

    def show(self, **properties: Any) -> None:
        """Change what ``systemctl show`` prints, and save."""
        self.state["show"].update(properties)
        self.save()

    def calls(self, program: str | None = None) -> list[list[str]]:
        """Every recorded argv (without the program), oldest first."""
        lines = self.calls_file.read_text(encoding="utf-8").splitlines()
        found = [json.loads(line) for line in lines if line]
        return [c["argv"] for c in found if program is None or c["program"] == program]

    def forget_calls(self) -> None:
        """Start a fresh call log."""
        self.calls_file.write_text("", encoding="utf-8")


def monitor(clock: ManualClock | None = None, **fields: object) -> ServiceMonitor:
    config = build_service_monitor({"component": "kubelet", **fields}, source="agent.yaml")
    return ServiceMonitor(config, clock=clock or ManualClock(wall=WALL))


def family(families: list[MetricFamily], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = next(f for f in families if f.name == f"healthwatch_service_{name}")
    return {tuple(sorted(s.labels.items())): s.value for s in found.samples}


def single(families: list[MetricFamily], name: str) -> float:
    values = family(families, name)
    assert len(values) == 1
    return next(iter(values.values()))
