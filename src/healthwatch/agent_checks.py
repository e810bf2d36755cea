"""The agent's synthetic checks: spec from the config (or the embedded self check), store, service.

Part of the composition root, kept apart from ``agent.py`` so each stays readable.
The history store lives in the state directory; if it cannot be opened (corrupt,
locked, read-only), the checks still run, in memory, and the ``checks:history``
component says why. Alert routes (``alerting:``) are validated with the checks,
so ``healthwatch validate`` reports their errors too.
"""

from __future__ import annotations

import functools
import logging

from healthwatch.aio.clock import Clock
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alertspec import Alerting, build_alerting, check_alert_routes
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import CheckSpec, build_checks
from healthwatch.config.agent import AgentConfig
from healthwatch.health.checks import CheckOutcome, CheckPolicy
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.errors import HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.store.config import HistorySettings, parse_history
from healthwatch.store.history import HistoryStore

__all__ = [
    "CHECKS_GROUP",
    "configured_alerting",
    "configured_checks",
    "configured_history",
    "open_checks",
    "register_kind_health",
]

CHECKS_GROUP = "checks"
_INLINE = CheckPolicy(inline=True, success_ttl=0, failure_ttl=0)
_log = logging.getLogger("healthwatch.agent")


def configured_alerting(config: AgentConfig) -> Alerting:
    """The config's alert routes (none when there is no ``alerting:`` section)."""
    return build_alerting(config.alerting, source=config.source, lines=config.lines)


def configured_history(config: AgentConfig) -> HistorySettings:
    """Retention and pruning of the check history (``history:``), validated."""
    return parse_history(config.history, source=config.source, lines=config.lines)


def configured_checks(config: AgentConfig, *, health_url: str | None = None) -> list[CheckSpec]:
    """The config's checks, or (with none configured) a self check of the health listener.

    The ``alerting:`` section is validated too, and every route a check names
    must exist there.
    """
    alerting = configured_alerting(config)
    configured_history(config)
    if config.checks is not None:
        specs = build_checks(list(config.checks), source=config.source, lines=config.lines)
        check_alert_routes(specs, alerting, source=config.source, lines=config.lines)
        return specs
    if health_url is None:
        return []
    self_check: dict[str, object] = {
        "name": "agent-livez",
        "namespace": "healthwatch",
        "kind": "http",
        "url": f"{health_url}/livez",
        "interval": "30s",
        "timeout": "5s",
        "conditions": ["status == 200", "latency < 1s"],
    }
    return build_checks([self_check], source="embedded default")


def _service_health(service: CheckService) -> CheckOutcome:
    status, message = service.health()
    return CheckOutcome(status=status, message=message)


def _kind_health(service: CheckService, kind: str) -> CheckOutcome:
    views = [v for v in service.views.values() if v.spec.kind == kind]
    failing = [v.spec.id for v in views if v.latest is not None and not v.latest.ok]
    message = f"{len(views)} {kind} checks, {len(failing)} failing"
    if failing:
        message += ": " + ", ".join(failing[:5]) + (" …" if len(failing) > 5 else "")
    # A failing check is news about its target, not about the runner: still healthy.
    return CheckOutcome(status=HealthStatus.HEALTHY, message=message)


async def open_checks(
    config: AgentConfig, *, registry: HealthRegistry, clock: Clock, health_url: str
) -> tuple[CheckService, HistoryStore | None]:
    """Open the store, build the checks service and register its components.

    The service is started by the caller once the web listener (which receives the
    reports of external checks) is up.
    """
    specs = configured_checks(config, health_url=health_url)
    registry.add_group(CHECKS_GROUP)
    history = configured_history(config)
    opened = HistoryStore(
        config.state_dir / "history.db",
        clock=clock,
        retention=history.retention,
        prune_interval=history.prune_interval,
    )
    store: HistoryStore | None = opened
    registry.register("checks:history", groups=(CHECKS_GROUP,))
    try:
        await opened.open()
        registry.update("checks:history", HealthStatus.HEALTHY, f"keeping history in {opened.path}")
    except HealthwatchError as error:
        _log.error("%s; checks run without history", error)
        registry.update("checks:history", HealthStatus.DEGRADED, str(error))
        store = None
    alerting = configured_alerting(config)
    alerts = AlertDispatcher(alerting, clock=clock) if alerting.routes else None
    service = CheckService(specs, clock=clock, store=store, alerts=alerts)
    registry.register(
        "checks:scheduler",
        functools.partial(_service_health, service),
        groups=(CHECKS_GROUP,),
        policy=_INLINE,
    )
    for kind in sorted({spec.kind for spec in specs}):
        register_kind_health(registry, service, kind)
    return service, store


def register_kind_health(registry: HealthRegistry, service: CheckService, kind: str) -> None:
    """The ``checks:KIND`` component: how the checks of one runner kind are doing."""
    registry.register(
        f"checks:{kind}",
        functools.partial(_kind_health, service, kind),
        groups=(CHECKS_GROUP,),
        policy=_INLINE,
    )
