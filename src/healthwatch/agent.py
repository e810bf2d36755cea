"""The composition root: builds the agent from its config, owns signals and shutdown.

The agent is its own first user of the health library: its event loop, its
threads and each listener are components of its own registry. Startup order
puts the health listener first (if it cannot bind, nothing else starts and the
error names the address); the metrics and web listeners follow, and a failure
there degrades the agent instead of stopping it, because a health port must
never depend on them. Shutdown is ordered and bounded: SIGTERM drains
(readiness fails at once, liveness stays up) for the configured drain time,
then the listeners close, then the registry stops. A second signal cuts the
drain short. SIGHUP, or a change of the config file, reloads the config
(:mod:`healthwatch.agent_reload`): an invalid one is rejected and the running
one stays; a valid one is applied without losing check history or conditions.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import os
import signal
from pathlib import Path

from healthwatch._version import __version__
from healthwatch.agent_checks import open_checks
from healthwatch.agent_problems import open_problems
from healthwatch.agent_reload import Reloader, RunningParts
from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.aio.sites import AppSite
from healthwatch.checks.service import CheckService
from healthwatch.config.agent import AgentConfig
from healthwatch.detector import Detector
from healthwatch.exporters.log import LogExporter
from healthwatch.exporters.prometheus import FamiliesCollector, ProblemMetrics, metrics_site
from healthwatch.exporters.recent import RecentProblems
from healthwatch.health.checks import CheckOutcome
from healthwatch.health.groups import LIVENESS, READINESS, STARTUP
from healthwatch.health.heartbeat import HeartbeatReporter
from healthwatch.health.metrics import health_families
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess, DetailMode, HealthRoutes
from healthwatch.health.serializers import ServiceInfo
from healthwatch.health.server import HealthServer
from healthwatch.health.watchdog import WATCHDOG_POLICY, ThreadWatchdog, watch_event_loop
from healthwatch.metrics import agent_metrics_registry
from healthwatch.model.errors import ConfigError, HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import StatusExporter
from healthwatch.problems.base import DaemonKinds
from healthwatch.problems.logmonitor.kmsg import boot_time_of
from healthwatch.store.history import HistoryStore
from healthwatch.web.app import web_app
from healthwatch.web.checks import add_check_routes
from healthwatch.web.reports import add_report_routes

__all__ = ["RUNTIME_FILE", "Agent"]

RUNTIME_FILE = "agent.json"
"""Written in the state directory while the agent runs: its pid and listener URLs."""

_log = logging.getLogger("healthwatch.agent")


def _release_startup_memory() -> None:
    """Hand back what start-up used and let go (parse trees, rule compilation) to the OS.

    A node agent's idle footprint is what operators see: collect, then ask glibc to
    trim its heap (silently skipped where there is no glibc). What survives start-up
    (modules, compiled rules, check specs) lives as long as the agent, so it is frozen
    out of the collector: full collections then scan only what runs create, instead of
    pausing the event loop for hundreds of milliseconds with many checks.
    """
    gc.collect()
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Agent:
    """One running healthwatch agent."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Clock | None = None,
        kinds: DaemonKinds | None = None,
    ) -> None:
        self.config = config
        self.kinds = kinds or DaemonKinds()
        """Problem daemon kinds: the built-ins, then the entry-point group's."""
        self.clock = clock or SystemClock()
        self.info = ServiceInfo(
            service="healthwatch", instance=config.node_name, version=__version__
        )
        self.registry = HealthRegistry(clock=self.clock)
        self.access = DetailAccess(mode=DetailMode(config.details), token=config.token)
        self.threads = ThreadWatchdog(clock=self.clock)
        self.health_server = HealthServer(
            HealthRoutes(self.registry, access=self.access, info=self.info),
            host=config.health_listen.host,
            port=config.health_listen.port,
        )
        self.collectors = (
            agent_metrics_registry(node=config.node_name) if config.metrics_listen else None
        )
        self.detector: Detector | None = None
        self.checks: CheckService | None = None
        self.history: HistoryStore | None = None
        self.decisions: dict[str, str] = {}
        """What the agent chose by itself, and why (shown in its component's metadata)."""
        self.metrics: AppSite | None = None
        self.web: AppSite | None = None
        self.heartbeat: HeartbeatReporter | None = None
        self.reloader: Reloader | None = None
        """Reloads the config on SIGHUP or a changed file, once started."""
        self.started = asyncio.Event()
        """Set once every part has started."""
        self._stop = asyncio.Event()
        self._signals = 0

    # ------------------------------------------------------------ start
    def _prepare_state_dir(self) -> None:
        path = self.config.state_dir
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise ConfigError(f"state directory {path}: cannot create: {error.strerror}") from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"state directory {path}: not writable by this user")

    async def start(self) -> None:
        """Start every part; raises :class:`HealthwatchError` if the agent cannot run."""
        self._prepare_state_dir()
        loop = asyncio.get_running_loop()
        registry = self.registry
        registry.register("agent", groups=(READINESS, STARTUP))
        watch_event_loop(registry, loop, stall_after=self.config.loop_stall_seconds)
        registry.register("threads", self.threads.check, groups=(LIVENESS,), policy=WATCHDOG_POLICY)
        self.health_server.start()  # raises ListenError: nothing else has started yet
        if self.health_server.thread is not None:
            self.threads.watch(self.health_server.thread, name="health-listener")
        background = registry.start_background()
        self.threads.watch(background.thread, name="health-checks")
        await self._start_problems()
        self.checks, self.history = await open_checks(
            self.config, registry=registry, clock=self.clock, health_url=self.health_server.url
        )
        await self._start_metrics()
        await self._start_web()
        self.checks.reporting_url = self.web.url if self.web else None
        await self.checks.start()
        self._start_heartbeat()
        self._start_reload()
        self._write_runtime_file()
        self._report_running()
        _release_startup_memory()
        self.started.set()

    async def _start_optional(self, name: str, site: AppSite) -> AppSite | None:
        """Start a listener that must not take the agent down with it."""
        self.registry.register(name, groups=(READINESS,), required=False)
        try:
            await site.start()
        except HealthwatchError as error:
            _log.error("%s; the agent goes on without it", error)
            self.registry.update(name, HealthStatus.UNHEALTHY, str(error))
            return None
        self.registry.update(name, HealthStatus.HEALTHY, f"serving on {site.url}")
        return site

    async def _start_problems(self) -> None:
        try:
            boot_time: float | None = boot_time_of(self.config.host_root, self.clock)
        except HealthwatchError:
            boot_time = None
        self.recent_problems = RecentProblems()
        """What the dashboard shows of node problems: evidence, conditions, timeline."""
        exporters: list[StatusExporter] = [LogExporter(), self.recent_problems]
        node = self.config.node_name
        if self.collectors is not None:
            exporters.append(ProblemMetrics(self.collectors, node=node))
        detector = await open_problems(
            self.config,
            registry=self.registry,
            clock=self.clock,
            kinds=self.kinds,
            exporters=exporters,
            decisions=self.decisions,
            boot_time=boot_time,
        )  # raises NoDaemonStartedError when daemons are configured and none can start
        self.detector = detector
        if detector is not None and self.collectors is not None:
            self.collectors.register(FamiliesCollector(lambda: detector.metric_families(node)))

    async def _start_metrics(self) -> None:
        address = self.config.metrics_listen
        collectors = self.collectors
        if address is None or collectors is None:
            _log.info("metrics listener off; the health listener is unaffected")
            return
        collectors.register(
            FamiliesCollector(
                lambda: health_families(self.registry.report(probes=())),
                labels={"node": self.config.node_name},
            )
        )
        checks = self.checks
        if checks is not None:
            collectors.register(
                FamiliesCollector(lambda: checks.metric_families(self.config.node_name))
            )
        self.metrics = await self._start_optional(
            "metrics-listener", metrics_site(collectors, host=address.host, port=address.port)
        )

    async def _start_web(self) -> None:
        address = self.config.listen
        if address is None:
            return
        app = web_app(
            self.registry,
            access=self.access,
            info=self.info,
            checks=lambda: self.checks,
            history=lambda: self.history,
            problems=self.recent_problems,
        )
        if self.checks is not None:
            add_check_routes(app, self.checks, node=self.config.node_name, history=self.history)
            add_report_routes(app, self.checks.runs)
        self.web = await self._start_optional(
            "web-listener", AppSite(app, name="web", host=address.host, port=address.port)
        )

    def _start_heartbeat(self) -> None:
        beat = self.config.heartbeat
        if beat is None:
            return
        info = ServiceInfo(
            service="healthwatch",
            instance=self.config.node_name,
            version=__version__,
            cluster_id=beat.cluster_id,
        )
        reporter = HeartbeatReporter(
            self.registry,
            beat.url,
            info=info,
            interval=self.config.heartbeat_interval,
            timeout=self.config.heartbeat_timeout,
        )
        self.heartbeat = reporter

        def check() -> CheckOutcome:
            stats = reporter.stats
            if stats.last_error:
                return CheckOutcome(
                    status=HealthStatus.DEGRADED,
                    message=f"last heartbeat failed: {stats.last_error}",
                )
            return CheckOutcome(status=HealthStatus.HEALTHY, message=f"{stats.sent} sent")

        # In no probe group: a control plane that is down must never fail a probe.
        self.registry.register("heartbeat", check, groups=(), policy=WATCHDOG_POLICY)
        reporter.start()

    def _start_reload(self) -> None:
        reloader = Reloader(
            self.config,
            RunningParts(
                registry=self.registry, clock=self.clock, detector=self.detector, checks=self.checks
            ),
            kinds=self.kinds,
            health_url=self.health_server.url,
            on_change=self._reloaded,
        )
        self.reloader = reloader
        if self.collectors is not None:
            self.collectors.register(
                FamiliesCollector(lambda: reloader.metric_families(self.config.node_name))
            )
        reloader.start()

    def _reloaded(self) -> None:
        """A reload ended (or its rejection stopped being news): take its config, say so."""
        if self.reloader is not None:
            self.config = self.reloader.config
            if self.reloader.decisions is not None:
                self.decisions.clear()
                self.decisions.update(self.reloader.decisions)
        self._report_running()

    def _report_running(self) -> None:
        """The agent's own component: running, or degraded while a reload is rejected."""
        metadata = {"version": __version__, "config": self.config.source, **self.decisions}
        problem = None
        if self.reloader is not None:
            metadata.update(self.reloader.metadata())
            problem = self.reloader.problem
        if problem is None:
            self.registry.update("agent", HealthStatus.HEALTHY, "running", metadata)
        else:
            self.registry.update("agent", HealthStatus.DEGRADED, problem, metadata)

    def _write_runtime_file(self) -> None:
        data = {
            "pid": os.getpid(),
            "version": __version__,
            "node": self.config.node_name,
            "health": self.health_server.url,
            "web": self.web.url if self.web else None,
            "metrics": f"{self.metrics.url}/metrics" if self.metrics else None,
        }
        path = self.config.state_dir / RUNTIME_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)

    def urls(self) -> dict[str, str | None]:
        """Where each listener answers."""
        return {
            "dashboard": f"{self.web.url}/" if self.web else None,
            "health": self.health_server.url,
            "metrics": f"{self.metrics.url}/metrics" if self.metrics else None,
        }

    # ------------------------------------------------------------ stop
    def request_shutdown(self) -> None:
        """First call drains; a second one cuts the drain short."""
        self._signals += 1
        if self._signals == 1:
            _log.info("shutting down: draining for %.1fs", self.config.drain_seconds)
            self.registry.drain()
            if self.reloader is not None:
                self.reloader.close()
        self._stop.set()

    def request_reload(self) -> None:
        """Reload the config (SIGHUP); ignored while starting or once shutdown began."""
        if self.reloader is None:
            _log.info("config reload ignored: the agent has not started yet")
            return
        self.reloader.request("SIGHUP")

    async def shutdown(self) -> None:
        """Drain, then close every listener and stop the registry, in that order."""
        self.registry.drain()
        deadline = asyncio.get_running_loop().time() + self.config.drain_seconds
        while self._signals < 2:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            self._stop.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), remaining)
        if self.reloader is not None:
            await self.reloader.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.detector is not None:
            await self.detector.stop()
        await self._stop_checks()
        for site in (self.web, self.metrics):
            if site is not None:
                await site.stop()
        self.registry.stop()
        self.health_server.stop()
        self.registry.close()
        self._remove_runtime_file()
        _log.info("stopped")

    def _remove_runtime_file(self) -> None:
        with contextlib.suppress(OSError):
            Path(self.config.state_dir, RUNTIME_FILE).unlink()

    async def run(self) -> int:
        """Start, serve until SIGTERM or SIGINT, shut down; the exit status."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            await self.start()
        except BaseException:
            await self._abort()
            raise
        try:
            await self._stop.wait()
        finally:
            await self.shutdown()
        return 0

    async def _stop_checks(self) -> None:
        if self.checks is not None:
            await self.checks.stop()
        if self.history is not None:
            await self.history.close()

    async def _abort(self) -> None:
        """Undo a partial start."""
        if self.reloader is not None:
            await self.reloader.stop()
        if self.detector is not None:
            await self.detector.stop()
        await self._stop_checks()
        for site in (self.web, self.metrics):
            if site is not None:
                await site.stop()
        self.health_server.stop()
        self.registry.close()
