"""Which problem daemons a reload starts, restarts, retries, stops or leaves running."""

from __future__ import annotations

from dataclasses import dataclass

from healthwatch.agent_problems import DaemonPlan
from healthwatch.agent_reload import DaemonChanges, daemon_changes


@dataclass(frozen=True)
class Settings:
    pattern: str
    origin: str = ""


def plan(
    name: str, pattern: str = "x", *, origin: str = "", kind: str = "logmonitor"
) -> DaemonPlan:
    return DaemonPlan(kind, Settings(pattern, origin), name)


def test_each_daemon_is_sorted_by_what_a_reload_does_to_it() -> None:
    current = {
        "same": Settings("x", "agent.yaml log_monitors[0]"),
        "edited": Settings("x"),
        "broken": Settings("x"),
        "gone": Settings("x"),
    }
    plans = [
        plan("new"),
        plan("same", origin="agent.yaml log_monitors[3]"),  # moved in the file: same daemon
        plan("edited", "y"),
        plan("broken"),
    ]
    changes = daemon_changes(current, {"broken"}, plans)
    assert changes == DaemonChanges(
        added=(plans[0],),
        changed=(plans[2],),
        retried=(plans[3],),
        removed=("gone",),
        unchanged=("same",),
    )
    assert changes.describe() == "1 added, 1 changed, 1 retried, 1 removed, 1 unchanged"
    assert DaemonChanges().describe() == "none"


def test_a_daemon_of_another_kind_or_of_unknown_config_is_restarted() -> None:
    @dataclass(frozen=True)
    class Other:
        pattern: str
        origin: str = ""

    changes = daemon_changes({"a": Other("x"), "b": None}, (), [plan("a"), plan("b")])
    assert [p.name for p in changes.changed] == ["a", "b"]
