"""What the fields of the problem daemons' sections mean (log, plugin, stats, service, GPU).

The fallback for fields whose declaration carries no docstring (see
``sourcenotes``), one line each, for people writing the file. An entry for a
field that has since gained a docstring, or that no longer exists, fails the
reference's test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from healthwatch.problems.gpu.config import GpuSpec
from healthwatch.problems.logmonitor.config import LogMonitorSpec
from healthwatch.problems.logmonitor.specs import ConditionSpec as LogConditionSpec
from healthwatch.problems.logmonitor.specs import RuleSpec as LogRuleSpec
from healthwatch.problems.pluginmonitor.config import ConditionSpec as PluginConditionSpec
from healthwatch.problems.pluginmonitor.config import PluginMonitorSpec
from healthwatch.problems.pluginmonitor.config import RuleSpec as PluginRuleSpec
from healthwatch.problems.servicemonitor.config import ServiceMonitorSpec
from healthwatch.problems.servicemonitor.journal import LogPatternSpec
from healthwatch.problems.statsmonitor.config import StatsMonitorSpec
from healthwatch.problems.statsmonitor.thresholdspec import ThresholdSpec, ThresholdsSpec

__all__ = ["PROBLEM_TEXTS"]

_NAME = "The daemon's name: its health component `daemon:<name>` and the source of its statuses"
_CONDITION = {
    "type": "Condition type (CamelCase, such as `KernelDeadlock`).",
    "reason": "Reason while the condition is False.",
    "message": "Message while the condition is False.",
}
_METRICS = "Declare this monitor's reasons to `problem_counter` and `problem_gauge`."

PROBLEM_TEXTS: Final[Mapping[type, Mapping[str, str]]] = {
    LogMonitorSpec: {
        "name": f"{_NAME}; unique.",
        "source": "Where lines come from: the kernel ring buffer, a file, or the journal.",
        "path": "`file`: the file to follow (required); `journald`: a journal directory "
        "(not set: the system journal); `kmsg`: not set means `/dev/kmsg`.",
        "timestamp": "`file`: how to read a line's time; not set: the time it was read.",
        "message": "`file`: regex finding the message in a line (its last group); not set: "
        "the whole line.",
        "identifiers": "`journald`: `SYSLOG_IDENTIFIER` values to read; empty: every entry.",
        "lookback": "On start, also report lines this old (never from before boot + "
        "`delay`); 0: only lines from start-up on.",
        "delay": "Ignore lines from the first this-long after boot.",
        "buffer_size": "Lines kept for multi-line rules (1-10000).",
        "skip_list": "`file`: lines containing any of these strings are dropped unread.",
        "metrics_reporting": _METRICS,
        "packs": "Shipped rule packs, tried before the monitor's own rules.",
        "conditions": "Condition types the monitor owns, with their healthy (False) defaults.",
        "rules": "The monitor's own rules, tried in order on every line.",
    },
    LogConditionSpec: _CONDITION,
    LogRuleSpec: {
        "type": "`temporary`: an event; `permanent`: sets `condition` True (with an event); "
        "`recovery`: sets `condition` back to False.",
        "reason": "Reason of the event, or of the condition while True (CamelCase).",
        "pattern": "Go RE2 regex that must match up to the end of the line (of the buffered "
        "lines, for a pattern spanning lines).",
        "condition": "`permanent` and `recovery` rules: the condition type they change; "
        "declared in `conditions` or a pack.",
        "message_suffix": "Appended to the message as `<message>; <suffix>` "
        "(node-problem-detector's `patternGeneratedMessageSuffix`).",
        "clear_after": "`permanent` rules: set the condition back to False after this long "
        "without a new match.",
        "severity": "Severity of the event.",
        "action": "A suggested action, shown with the event.",
        "labels": "Named groups of the pattern attached to the event as labels.",
    },
    PluginMonitorSpec: {
        "name": f"{_NAME}; unique.",
        "interval": "Time between runs of the rules (node-problem-detector's `invoke_interval`).",
        "timeout": "Longest a plugin may run before its process group is killed.",
        "max_output_length": "Bytes of the plugin's first output line kept as the message.",
        "concurrency": "Plugins of this monitor running at once (1-1024).",
        "message_change_updates": "Update a True condition when only the output changed "
        "(`enable_message_change_based_condition_update`).",
        "skip_initial_status": "Do not report the conditions before the first results.",
        "metrics_reporting": _METRICS,
        "conditions": "Condition types the monitor owns, with their healthy (False) defaults.",
        "rules": "The plugins to run.",
    },
    PluginConditionSpec: _CONDITION,
    PluginRuleSpec: {
        "type": "`temporary`: an event when the plugin finds a problem or cannot tell; "
        "`permanent`: sets `condition` (exit 0 False, 1 True, else Unknown).",
        "reason": "Reason of the event, or of the condition while True.",
        "path": "Absolute path of the plugin, run directly (never through a shell); it must "
        "exist when the config is loaded.",
        "condition": "`permanent` rules: the condition type they set, declared in `conditions`.",
        "args": "Arguments of the plugin.",
        "timeout": "This plugin's timeout, at most the monitor's; not set: the monitor's.",
        "interval": "This plugin's own interval; not set: the monitor's.",
    },
    StatsMonitorSpec: {
        "enabled": "`false`: no stats monitor.",
        "name": f"{_NAME}.",
        "interval": "Time between collections, 1s to 24h; one runs at start.",
        "timeout": "A round still running after this is abandoned (the monitor is degraded); "
        "at most `interval`; not set: 5s, or the interval when shorter.",
        "collectors": "Collectors to run; not set: all.",
        "metrics": "node-problem-detector metric IDs to export (`cpu/load_1m`); not set: "
        "every metric of the collectors that run.",
        "exclude_devices": "Regex of block devices left out of the I/O figures.",
        "exclude_interfaces": "Regex of network interfaces left out; not set: none.",
        "thresholds": "Pressure conditions: each threshold `true` (its defaults), `false` "
        "(off) or a mapping of changes.",
    },
    ThresholdsSpec: {
        "memory_available_percent": "Share of memory available (`MemAvailable`).",
        "disk_used_percent": "Share of space used, per filesystem.",
        "inodes_used_percent": "Share of inodes used, per filesystem.",
        "pids_used_percent": "Threads against the PID limit.",
        "conntrack_used_percent": "Connection-tracking entries against the table's size.",
    },
    ThresholdSpec: {
        "above": "Percentage that sets the condition, for the figures that rise (all but memory).",
        "clear_below": "Percentage the figure must fall below to clear it; not set: the "
        "default gap below `above`.",
        "below": "Percentage that sets the condition, for `memory_available_percent`.",
        "clear_above": "Percentage the figure must rise above to clear it; not set: the "
        "default gap above `below`.",
        "samples": "Rounds in a row needed to set it, and to clear it (1-100).",
        "mounts": "Disk and inode thresholds: host paths whose filesystems are judged; not "
        "set: every filesystem on a block device.",
        "condition": "Another condition type (CamelCase); on Kubernetes nodes avoid the "
        "kubelet's `MemoryPressure`, `DiskPressure` and `PIDPressure`.",
        "reason": "Another reason (CamelCase).",
    },
    ServiceMonitorSpec: {
        "component": "Which service; its unit, check, condition and reason prefix follow "
        "from it (`unit`: any systemd unit).",
        "unit": "systemd unit (`.service` is added); required for component `unit`; not "
        "set: the component's.",
        "name": f"{_NAME}; not set: `service-<unit>`.",
        "condition": "Condition type held (CamelCase); not set: the component's, else the "
        "unit's name in CamelCase + `Unhealthy`.",
        "interval": "Time between polls; at least 1s.",
        "timeout": "Time allowed to each command and the health request; at most `interval`.",
        "health_url": 'Health endpoint expected to answer 200; not set: the component\'s; `""`: '
        "none.",
        "runtime_endpoint": "`containerd` and `cri-o`: CRI endpoint for `crictl` "
        "(`unix:///path` or `tcp://host:port`); not set: the component's socket.",
        "runtime_timeout": "`containerd` and `cri-o`: `crictl --timeout`, at most `timeout`; "
        "not set: 2s.",
        "log_patterns": "Journal patterns that make the unit unhealthy when they match often "
        "enough.",
        "loopback": "Count journal lines of at most this long ago; 0: since the unit last started.",
        "enable_repair": "Kill the main process of a running but unhealthy unit, so that "
        "systemd starts it afresh.",
        "cooldown": "A unit must have been up this long before it may be repaired.",
        "max_repairs_per_hour": "Repairs allowed in any hour (1-60); beyond, repair holds "
        "back and the monitor is degraded.",
        "flap_restarts": "Restarts within `flap_window` that make the unit flapping (0: never).",
        "flap_window": "Time over which restarts are counted.",
    },
    LogPatternSpec: {
        "pattern": "Python regex searched anywhere in each journal message, ignoring case.",
        "count": "Matching lines that make the unit unhealthy (1-10000).",
    },
    GpuSpec: {
        "name": f"{_NAME}.",
        "enabled": "`auto`: on when NVML loads and finds a GPU; `true`: failing that is a "
        "start error; `false`: off.",
        "interval": "Time between samples of every GPU; at least 1s.",
        "timeout": "Longest an NVML call may take before the daemon stops waiting for it "
        "(up to 5m).",
        "fatal_xids": "Xids that set `GPUUnhealthy`, replacing the default set.",
        "ignore_xids": "Xids never reported (still counted in the metrics).",
        "temperature_threshold": "°C at which a GPU is reported with an event; not set: none.",
    },
}
"""Struct → field name → what it means."""
