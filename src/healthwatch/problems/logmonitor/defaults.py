"""The log monitor of the embedded default: the kernel rule pack on the best kernel log there is.

``/dev/kmsg`` when it can be read (it has every kernel message with exact
sequence numbers), else the first existing of ``/var/log/kern.log``,
``/var/log/messages`` and ``/var/log/syslog`` (under ``host_root`` in a
container that mounts the host's ``/``), read in the traditional syslog format.
The choice and the reason for it are returned so the agent can show them.
"""

from __future__ import annotations

import os

from healthwatch.problems.logmonitor.config import (
    LogMonitorSpec,
    TimestampSpec,
    build_log_monitor,
)
from healthwatch.problems.logmonitor.specs import LogMonitorConfig

__all__ = ["SYSLOG_FILES", "default_kernel_monitor"]

SYSLOG_FILES = ("/var/log/kern.log", "/var/log/messages", "/var/log/syslog")
_SOURCE = "embedded default"


def _kmsg_readable(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    os.close(fd)
    return True


def default_kernel_monitor(
    host_root: str = "/", *, kmsg: str = "/dev/kmsg"
) -> tuple[LogMonitorConfig | None, str]:
    """The kernel monitor to run, and why; (None, why not) when no kernel log can be read."""
    if _kmsg_readable(kmsg):
        spec = LogMonitorSpec(name="kernel-monitor", source="kmsg", path=kmsg, packs=["kernel"])
        return build_log_monitor(spec, source=_SOURCE), f"{kmsg} is readable"
    for path in SYSLOG_FILES:
        on_host = os.path.join(host_root, path.lstrip("/"))
        if os.access(on_host, os.R_OK):
            spec = LogMonitorSpec(
                name="kernel-monitor",
                source="file",
                path=path,
                packs=["kernel"],
                timestamp=TimestampSpec(regex=r"^.{15}", format="Jan _2 15:04:05"),
                message=r"kernel: (?:\[\s*[0-9.]+\] )?(.*)",
            )
            reason = f"{kmsg} is not readable; {on_host} is"
            return build_log_monitor(spec, source=_SOURCE), reason
    tried = ", ".join((kmsg, *SYSLOG_FILES))
    return None, f"no kernel log is readable (tried {tried})"
