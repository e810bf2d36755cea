"""What the fields of the agent, health, heartbeat, checks, alerting and history sections mean.

The fallback for fields whose declaration carries no docstring (see
``sourcenotes``): one line each, for people writing the file. An entry for a
field that has since gained a docstring, or that no longer exists, fails the
reference's test, so this table only ever shrinks towards the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from healthwatch.checks.alertspec import AlertingEntry, RouteEntry
from healthwatch.checks.maintenance import MaintenanceEntry
from healthwatch.checks.spec import CheckEntry
from healthwatch.config.agent import AgentSection, HealthSection, HeartbeatSection
from healthwatch.store.config import HistorySection

__all__ = ["AGENT_TEXTS"]

AGENT_TEXTS: Final[Mapping[type, Mapping[str, str]]] = {
    AgentSection: {
        "listen": "Web listener (dashboard, API, reports of external checks): `HOST:PORT`, "
        "`[IPv6]:PORT`, `:PORT` (loopback) or `off`. Flag `--listen`.",
        "health_listen": "Health listener (`/livez`, `/readyz`, `/startupz`, `/health`); "
        "cannot be turned off. Flag `--health-listen`.",
        "metrics_listen": "Metrics listener (`/metrics`), or `off`. Flag `--metrics-listen`.",
        "state_dir": "Where the check history, saved conditions and `agent.json` are kept; "
        "not set: `$XDG_STATE_HOME/healthwatch`, else `~/.local/state/healthwatch`. "
        "Flag `--state-dir`.",
        "node_name": "This node's name in metrics, the status page and heartbeats; not set: "
        "`$NODE_NAME`, else the host name. Flag `--node-name`.",
        "drain": "On SIGTERM, how long readiness fails before the agent stops; a second "
        "signal cuts it short. Flag `--drain`.",
        "log_format": "Log lines as text or as JSON lines. Flag `--log-format`.",
        "log_level": "Lowest level logged. Flag `--log-level`.",
        "host_root": "Where the host's `/` is mounted when the agent runs in a container; "
        "`/proc`, `/sys` and followed log files are read under it (`/dev/kmsg` is the same "
        "device everywhere). Flag `--host-root`.",
    },
    HealthSection: {
        "details": "Who sees messages and metadata: callers on `loopback`, everyone "
        "(`always`), or only holders of the token (`never`).",
        "token_env": "Environment variable holding a bearer token; callers sending "
        "`Authorization: Bearer <token>` always see details.",
        "loop_stall": "Liveness fails when the agent's event loop has run no callback for "
        "this long.",
    },
    HeartbeatSection: {
        "url": "URL the report (instance, cluster id, version, components) is POSTed to.",
        "interval": "Time between reports (± 10 %); backs off while the control plane fails.",
        "timeout": "Time allowed for one report.",
        "cluster_id": "Cluster identifier sent with every report.",
    },
    CheckEntry: {
        "name": "Unique within its namespace: lower-case letters, digits, `-` and `.`.",
        "namespace": "The check's namespace; `namespace/name` is its id (the `check` label, "
        "the key on `/json`).",
        "kind": "What the check does; the kind decides which other fields apply.",
        "interval": "Time between runs; at least 1s.",
        "timeout": "Time allowed for one attempt; more than 0 and at most `interval`.",
        "conditions": "Expressions the result must satisfy (docs/checks.md#conditions); "
        "empty: the kind's defaults.",
        "retries": "Extra attempts within one run before it counts as failed (0-5).",
        "failure_threshold": "Failed runs in a row before the check fires its alert.",
        "success_threshold": "Passing runs in a row before a firing check resolves.",
        "labels": "Labels passed on with alerts (Alertmanager labels, webhook `labels`).",
        "alerts": "Names of alert routes (`alerting.routes`); not set: "
        "`alerting.default_routes`; `[]`: never alert.",
        "maintenance": "Windows in which the check runs but does not alert (at most 100).",
        "url": "Absolute `http://` or `https://` URL.",
        "method": "Upper-case HTTP method; not set: `GET`.",
        "headers": "Request headers.",
        "body": "Request body, as text.",
        "follow_redirects": "Follow 3xx answers; not set: true; `false` observes the "
        "redirect itself.",
        "max_redirects": "More redirects than this (0-20) fail the run; not set: 5.",
        "client_cert": "PEM client certificate for mutual TLS; must exist and load, with "
        "its key, when the config is loaded.",
        "client_key": "PEM key of `client_cert`, unless the certificate file holds it.",
        "all_addresses": "Send the request to every address the host resolves to; the "
        "check fails if any address fails.",
        "host": "Host name or address to connect to.",
        "port": "TCP port; required for `tcp`; not set for `tls`: 443.",
        "send": "Text sent once connected.",
        "expect": "Regex to read for in the answer (observed as `expect_matched`).",
        "server_name": "Name sent as SNI and checked against the certificate; not set: `host`.",
        "ca_file": "PEM bundle of trusted CAs; not set: the system store.",
        "verify": "Verify the certificate chain; not set: true.",
        "argv": "Program and arguments, run directly (never through a shell). `external`: "
        "optional; without it the run only waits for a report.",
        "env": "Variables added to the minimal environment (`PATH`, `LANG`); for `external` "
        "the `KH_*` variables always win.",
        "cwd": "Working directory; not set: the agent's.",
        "query": "The name looked up, as an absolute name (for `PTR`, an IP address "
        "stands for its reverse name).",
        "record_type": "Record type asked for; not set: `A`.",
        "server": "Name server: `address`, `address:port` or `[IPv6]:port` (not a host "
        "name); not set: the name servers of `/etc/resolv.conf`.",
        "protocol": "`udp` (TCP again when truncated) or `tcp`; not set: `udp`.",
    },
    MaintenanceEntry: {
        "start": "One-off window: its start, RFC 3339 with an offset (included).",
        "end": "One-off window: its end, after `start` (excluded).",
        "days": "Weekly window: days it starts on (`mon` … `sun`, or full names); not set: "
        "every day.",
        "to": 'Weekly window: its end, `"HH:MM"` (`"24:00"` allowed); at or before `from`: '
        "the next day.",
        "timezone": "Weekly window: IANA time zone of `from` and `to`; not set: `UTC`.",
    },
    AlertingEntry: {
        "routes": "Where notifications go; each route has its own queue.",
        "default_routes": "Routes of checks that have no `alerts:`.",
        "dashboard_url": "Base URL of the links in notifications; not set: the web "
        "listener's address.",
    },
    RouteEntry: {
        "name": "Unique route name: lower-case letters, digits, `-`, `_`, `.` (at most 63).",
        "kind": "Alertmanager v2 API, a generic JSON webhook, or a Slack-compatible "
        "incoming webhook.",
        "url": "http(s) URL (Alertmanager: its base URL); `${NAME}` is replaced by the "
        "environment variable `NAME` at load.",
        "timeout": "Time allowed for one delivery attempt; more than 0, at most 60s.",
        "headers": "Request headers; `${NAME}` in values is read from the environment. "
        "Values are never shown in logs or errors.",
        "template": "`webhook` and `slack` only: the JSON body, with placeholders such as "
        "`{{check}}`, `{{state}}`, `{{errors}}`.",
        "repeat": "`alertmanager` only: how often a firing alert is sent again (1s-1h); "
        "not set: 1m.",
    },
    HistorySection: {
        "raw_retention": "How long every result (errors, observed values) is kept; at least 1h.",
        "hourly_retention": "How long hourly roll-ups (runs, failures, latency percentiles) "
        "are kept; at least 1h.",
        "daily_retention": "How long daily roll-ups (the uptime bars) are kept; at least 1h.",
        "prune_interval": "How often rows past their retention are deleted; 1s to 1d.",
    },
}
"""Struct → field name → what it means."""
