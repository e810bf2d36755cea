"""Components on the dashboard: their status history, and the component page.

The registry keeps each component's current snapshot, not its past; the
dashboard's :class:`ComponentHistory` is a transition observer that keeps the
latest changes of each component (bounded, thread-safe: observers are called on
whichever thread made the change). The component page shows the snapshot, the
history seen since the web listener started, the probe groups the component
belongs to with their verdicts and suppression windows, and standby mode. For
the ``agent`` component its metadata are the choices the agent made by itself
and why ("why is this on").
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from healthwatch.health.registry import HealthRegistry, UnknownComponentError
from healthwatch.model.health import (
    ComponentStatus,
    HealthReport,
    HealthStatus,
    ProbeVerdict,
)
from healthwatch.web.dashboard.context import Texts

__all__ = ["ComponentHistory", "ComponentPage", "GroupMembership", "StatusChange", "component_page"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """One component went from one status to another."""

    name: str
    at: float
    old: HealthStatus
    new: HealthStatus
    message: str


class ComponentHistory:
    """The latest status changes of every component, per component and all together."""

    def __init__(
        self, *, per_component: int = 50, timeline: int = 100, max_components: int = 2000
    ) -> None:
        self._lock = threading.Lock()
        self._per_component = per_component
        self._max_components = max_components
        self._changes: dict[str, deque[StatusChange]] = {}
        self._timeline: deque[StatusChange] = deque(maxlen=timeline)

    def observe(
        self, name: str, old: HealthStatus, new: HealthStatus, snapshot: ComponentStatus
    ) -> None:
        """The registry's observer: keep the change."""
        at = snapshot.changed_at if snapshot.changed_at is not None else snapshot.observed_at
        change = StatusChange(name=name, at=at or 0.0, old=old, new=new, message=snapshot.message)
        with self._lock:
            kept = self._changes.get(name)
            if kept is None:
                if len(self._changes) >= self._max_components:
                    return
                kept = self._changes[name] = deque(maxlen=self._per_component)
            kept.append(change)
            self._timeline.append(change)

    def of(self, name: str) -> list[StatusChange]:
        """One component's changes, newest first."""
        with self._lock:
            return list(reversed(self._changes.get(name, ())))

    def latest(self, limit: int) -> list[StatusChange]:
        """Every component's latest changes, newest first."""
        with self._lock:
            return list(self._timeline)[: -limit - 1 : -1] if limit > 0 else []


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupMembership:
    """A probe group the component belongs to, and how that group stands."""

    group: str
    required: bool
    verdict: ProbeVerdict | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentPage:
    """What the component page shows."""

    component: ComponentStatus
    message: str
    metadata: list[tuple[str, str]]
    groups: list[GroupMembership]
    history: list[StatusChange]
    standby: bool
    lifecycle: str
    is_agent: bool


def component_page(
    registry: HealthRegistry,
    report: HealthReport,
    history: ComponentHistory,
    name: str,
    *,
    texts: Texts,
) -> ComponentPage | None:
    """The page of component ``name``, or None when there is no such component."""
    component = report.component(name)
    if component is None:
        return None
    groups: list[GroupMembership] = []
    for group in registry.groups:
        try:
            members = registry.members(group)
        except UnknownComponentError:
            continue
        if name in members:
            groups.append(
                GroupMembership(
                    group=group, required=members[name], verdict=report.probes.get(group)
                )
            )
    metadata = (
        sorted(component.metadata.items())
        if texts.details
        else [(key, texts.shown("")) for key in sorted(component.metadata)]
    )
    return ComponentPage(
        component=component,
        message=texts.shown(component.message),
        metadata=metadata,
        groups=groups,
        history=[
            StatusChange(name=c.name, at=c.at, old=c.old, new=c.new, message=texts.shown(c.message))
            for c in history.of(name)
        ],
        standby=report.standby,
        lifecycle=str(report.lifecycle),
        is_agent=name == "agent",
    )
