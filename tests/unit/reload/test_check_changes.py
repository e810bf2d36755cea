"""Which checks a new set of specs adds, changes, removes or leaves alone."""

from __future__ import annotations

import pytest

from healthwatch.checks.changes import CheckChanges, check_changes
from healthwatch.checks.spec import CheckSpec, build_checks


def specs(*entries: dict[str, object]) -> list[CheckSpec]:
    return build_checks(list(entries), source="agent.yaml")


def tcp(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "kind": "tcp", "host": "127.0.0.1", "port": 1, **extra}


def test_each_id_is_sorted_by_what_happens_to_it_in_config_order() -> None:
    old = {s.id: s for s in specs(tcp("a"), tcp("b"), tcp("c"), tcp("e"))}
    new = specs(tcp("d"), tcp("b", timeout="2s"), tcp("a"), tcp("e", namespace="other"))
    changes = check_changes(old, new)
    assert changes == CheckChanges(
        added=("default/d", "other/e"),
        changed=("default/b",),
        removed=("default/c", "default/e"),
        unchanged=("default/a",),
    )
    assert changes.describe() == "2 added, 1 changed, 2 removed, 1 unchanged"
    assert not changes.empty


def test_specs_compiled_again_from_the_same_entries_are_unchanged() -> None:
    entry = tcp("a", conditions=["tcp.connected == true", "latency < 1s"], labels={"t": "x"})
    changes = check_changes({s.id: s for s in specs(entry)}, specs(entry))
    assert changes.unchanged == ("default/a",) and changes.empty
    assert CheckChanges().describe() == "none"


@pytest.mark.parametrize(
    "change",
    [
        {"interval": "31s"},
        {"conditions": ["tcp.connected == false"]},
        {"failure_threshold": 2},
        {"labels": {"team": "b"}},
        {"port": 2},
        {"maintenance": [{"days": ["sun"], "from": "01:00", "to": "02:00"}]},
    ],
)
def test_any_field_that_changes_makes_a_changed_check(change: dict[str, object]) -> None:
    before = specs(tcp("a"))
    assert check_changes({s.id: s for s in before}, specs(tcp("a", **change))).changed == (
        "default/a",
    )


def test_a_check_given_twice_is_refused() -> None:
    (one,) = specs(tcp("a"))
    with pytest.raises(ValueError, match="given twice"):
        check_changes({}, [one, one])
