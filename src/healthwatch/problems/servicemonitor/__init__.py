"""The service monitor: node services (kubelet, container runtimes, any systemd unit) alive?

It watches a unit's systemd state, its health endpoint or runtime reachability and
error patterns in its journal since it started, holds one condition per component,
and may repair a running but unhealthy service by killing its main process, only
after a cool-down and within an hourly budget. See ``docs/service-monitor.md``.
"""
