"""Once per transition, across restarts: the checks' outboxes between the service and delivery.

The service tells :class:`AlertOutbox` about each threshold transition. The
notification is recorded in the check's state (:meth:`CheckState.record
<healthwatch.checks.state.CheckState.record>`), the service saves that state,
and only then is it handed to the :class:`~.dispatcher.AlertDispatcher`. Each
route that has it settles it, and the state is saved again. So after a crash or
a restart every notification that some route has not had is still in the saved
state and is sent on start (:meth:`AlertOutbox.start`), and one every route
has had is never sent again. The window between a delivery and the save that
settles it is the only place a notification can be sent twice: at least once,
never lost, is the promise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from types import MappingProxyType
from urllib.parse import quote

from healthwatch.checks.alerts.delivery import Outcome
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alerts.notification import AlertState, Notification, cap_errors
from healthwatch.checks.spec import CheckSpec
from healthwatch.checks.state import CheckState, Transition
from healthwatch.model.checks import CheckResult

__all__ = ["AlertOutbox", "check_url"]

_log = logging.getLogger("healthwatch.checks.alerts")


def check_url(base: str | None, spec: CheckSpec) -> str | None:
    """The check's dashboard page on the agent (``None`` without a base URL)."""
    if not base:
        return None
    name = f"{quote(spec.namespace, safe='')}/{quote(spec.name, safe='')}"
    return f"{base.rstrip('/')}/checks/{name}"


class AlertOutbox:
    """Records, saves, sends and settles the notifications of every check."""

    def __init__(
        self,
        dispatcher: AlertDispatcher,
        *,
        state_of: Callable[[str], CheckState | None],
        save: Callable[[str], Awaitable[None]],
    ) -> None:
        self.dispatcher = dispatcher
        self._state_of = state_of
        """The current state of a check, by id (the service replaces states on start)."""
        self._save = save
        """Persists a check's state, by id; must not raise."""

    def routes(self, spec: CheckSpec) -> list[str]:
        """Names of the routes ``spec`` alerts to."""
        return [route.name for route in self.dispatcher.alerting.routes_for(spec.alerts)]

    async def start(self, checks: Iterable[tuple[CheckSpec, CheckState]]) -> None:
        """Start delivery, then send what the saved outboxes hold and re-send open alerts."""
        await self.dispatcher.start(on_settled=self._settled)
        for spec, state in checks:
            changed = False
            for entry in list(state.pending):
                sequence = entry.notification.sequence
                for name in [n for n in entry.routes if n not in self.dispatcher.routes]:
                    _log.warning("check %s: alert route %s is gone; not sent there", spec.id, name)
                    changed |= state.settle(sequence, name)
                if entry.routes:  # settle() empties and unlinks an entry with no routes left
                    self.dispatcher.submit(entry.notification, list(entry.routes))
            open_alert = state.open_alert()
            if open_alert is not None:
                self.dispatcher.track(open_alert, self.routes(spec))
            if changed:
                await self._save(spec.id)

    async def stop(self) -> None:
        """Stop delivery; what is not delivered stays in the outboxes."""
        await self.dispatcher.stop()

    def record(
        self,
        spec: CheckSpec,
        state: CheckState,
        transition: Transition,
        result: CheckResult,
        *,
        base_url: str | None,
    ) -> Notification:
        """The notification of ``transition``, put in ``state``'s outbox.

        Save the state, then :meth:`send` it.
        """
        firing = transition == "firing"
        started = state.alert_started_at
        notification = Notification(
            check_id=spec.id,
            namespace=spec.namespace,
            name=spec.name,
            state=AlertState.FIRING if firing else AlertState.RESOLVED,
            sequence=state.transitions,
            errors=cap_errors(result.errors) if firing else (),
            labels=MappingProxyType(dict(spec.labels)),
            started_at=result.started_at if started is None else started,
            ended_at=None if firing else result.started_at,
            url=check_url(self.dispatcher.alerting.dashboard_url or base_url, spec),
        )
        for lost in state.record(notification, self.routes(spec)):
            _log.warning(
                "check %s: outbox full, %s notification %d dropped for %s",
                spec.id,
                lost.notification.state.value,
                lost.notification.sequence,
                ", ".join(lost.routes),
            )
        return notification

    def send(self, spec: CheckSpec, notification: Notification) -> None:
        """Hand a recorded (and saved) notification to delivery."""
        routes = self.routes(spec)
        if routes:
            refused = self.dispatcher.submit(notification, routes)
            if refused:
                _log.warning(
                    "check %s: %s notification queued for the next start on %s (queue full)",
                    spec.id,
                    notification.state.value,
                    ", ".join(refused),
                )

    async def _settled(self, notification: Notification, route: str, outcome: Outcome) -> None:
        state = self._state_of(notification.check_id)
        if state is not None and state.settle(notification.sequence, route):
            _log.info(
                "check %s: %s notification %s to %s",
                notification.check_id,
                notification.state.value,
                outcome.value,
                route,
            )
            await self._save(notification.check_id)
