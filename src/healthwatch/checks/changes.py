"""What a new set of check specs changes, check by check, for a reload that loses nothing.

A check is known by its id (``namespace/name``): the same id with the same
spec is unchanged and keeps everything (state, latest result, place in the
schedule); the same id with another spec is changed and keeps its state and
history under the new spec; an id only in the old set is removed, one only in
the new set added. Specs are compared by what they configure
(:func:`healthwatch.config.compare.same_config`), since a reload compiles every
spec afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from healthwatch.checks.spec import CheckSpec
from healthwatch.config.compare import same_config

__all__ = ["CheckChanges", "check_changes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckChanges:
    """Check ids by what a new set of specs does to them, each in config order."""

    added: tuple[str, ...] = ()
    """Ids only in the new set: scheduled afresh."""
    changed: tuple[str, ...] = ()
    """Ids in both with a different spec: the new spec, the same state and history."""
    removed: tuple[str, ...] = ()
    """Ids only in the old set: no longer scheduled; their history stays in the store."""
    unchanged: tuple[str, ...] = ()
    """Ids in both with the same spec: left alone."""

    @property
    def empty(self) -> bool:
        """Whether nothing changes."""
        return not (self.added or self.changed or self.removed)

    def describe(self) -> str:
        """``2 added, 1 changed, 1 removed, 3 unchanged`` (zero counts left out)."""
        counts = (
            ("added", self.added),
            ("changed", self.changed),
            ("removed", self.removed),
            ("unchanged", self.unchanged),
        )
        return ", ".join(f"{len(ids)} {what}" for what, ids in counts if ids) or "none"


def check_changes(old: Mapping[str, CheckSpec], new: Sequence[CheckSpec]) -> CheckChanges:
    """Sort every id of ``old`` (specs by id) and ``new`` into added, changed, removed and
    unchanged."""
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    wanted: set[str] = set()
    for spec in new:
        if spec.id in wanted:
            raise ValueError(f"check {spec.id!r} is given twice")
        wanted.add(spec.id)
        before = old.get(spec.id)
        if before is None:
            added.append(spec.id)
        elif same_config(before, spec):
            unchanged.append(spec.id)
        else:
            changed.append(spec.id)
    return CheckChanges(
        added=tuple(added),
        changed=tuple(changed),
        removed=tuple(check_id for check_id in old if check_id not in wanted),
        unchanged=tuple(unchanged),
    )
