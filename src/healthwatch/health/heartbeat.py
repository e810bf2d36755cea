"""Heartbeats to a control plane: the report, POSTed periodically.

A fleet's control plane learns which instances are alive and how they are
from these reports (instance, cluster id, version, commit, start time, uptime,
components). Sends are jittered so a fleet restarted together does not report
together, failures back off exponentially, and nothing here ever touches a
probe: a control plane that is down must not make a healthy service unready.
Reports use stored results only; a heartbeat never runs a check.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from healthwatch.aio.backoff import Backoff
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.serializers import ServiceInfo, dumps, report_json

__all__ = ["HeartbeatReporter", "HeartbeatStats"]

_log = logging.getLogger("healthwatch.health.heartbeat")
_MAX_RESPONSE = 64 * 1024


@dataclass(slots=True)
class HeartbeatStats:
    """What the reporter has done so far."""

    sent: int = 0
    failed: int = 0
    last_error: str = ""
    last_status: int | None = None


class HeartbeatReporter:
    """POSTs the registry's report to ``url`` every ``interval`` seconds from a daemon thread."""

    def __init__(
        self,
        registry: HealthRegistry,
        url: str,
        *,
        info: ServiceInfo,
        interval: float = 30.0,
        jitter: float = 0.1,
        timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        _check_url(url)
        if interval <= 0 or timeout <= 0 or not 0 <= jitter < 1:
            raise ValueError(
                f"heartbeat needs interval > 0, timeout > 0 and 0 <= jitter < 1, got "
                f"interval={interval}, timeout={timeout}, jitter={jitter}"
            )
        self.registry = registry
        self.url = url
        self.info = info
        self.interval = interval
        self.jitter = jitter
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.backoff = backoff or Backoff(initial=min(1.0, interval), maximum=max(300.0, interval))
        self.stats = HeartbeatStats()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def payload(self) -> bytes:
        """The JSON body of one heartbeat."""
        report = self.registry.report(probes=())
        data = report_json(report, details=True, info=self.info)
        data["instance"] = self.info.instance
        data["cluster_id"] = self.info.cluster_id
        data["version"] = self.info.version
        data["commit"] = self.info.commit
        return dumps(data)

    def send_once(self) -> bool:
        """Send one heartbeat now; True on a 2xx answer.

        Never raises for network errors, nor for a control plane that answers with
        something that is not HTTP.
        """
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=self.payload(),
            method="POST",
            headers={"Content-Type": "application/json", **self.headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(_MAX_RESPONSE)
                self.stats.last_status = response.status
        except urllib.error.HTTPError as error:
            self.stats.last_status = error.code
            return self._failed(f"HTTP {error.code}")
        except (OSError, ValueError, http.client.HTTPException) as error:
            # HTTPException: an answer that is not HTTP (BadStatusLine), or cut short.
            return self._failed(f"{type(error).__name__}: {error}")
        self.stats.sent += 1
        self.stats.last_error = ""
        self.backoff.success()
        return True

    def _failed(self, reason: str) -> bool:
        self.stats.failed += 1
        self.stats.last_error = reason
        _log.warning("heartbeat to %s failed: %s", _redact(self.url), reason)
        return False

    def next_delay(self, ok: bool) -> float:
        """Seconds to wait after a send: the jittered interval, or the backoff after a failure."""
        if not ok:
            return min(self.backoff.failure(), self.interval * 10)
        spread = self.interval * self.jitter
        return self.interval + self._rng.uniform(-spread, spread)

    def _run(self) -> None:
        # First send after a random fraction of the interval: a fleet restarted together spreads.
        delay = self._rng.uniform(0, self.interval * self.jitter)
        while not self._stop.wait(delay):
            try:
                ok = self.send_once()
            except Exception:  # the reporter must outlive any one bad pass
                _log.exception("heartbeat: unexpected error")
                ok = False
            delay = self.next_delay(ok)

    def start(self) -> None:
        """Start the reporter thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="healthwatch-heartbeat", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the reporter thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def _check_url(url: str) -> None:
    """Raise ValueError unless ``url`` is http(s) with a host and a valid port."""
    shape = "heartbeat URL must be http(s)://host[:port]/..."
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError as error:
        raise ValueError(f"{shape}, got {url!r}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{shape}, got {url!r}")


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=""))
    return urllib.parse.urlunsplit(parts._replace(query=""))
