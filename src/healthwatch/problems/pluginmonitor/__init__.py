"""The custom plugin monitor: programs run on schedule, exit codes into events and conditions.

node-problem-detector's custom-plugin protocol and JSON config, unchanged: exit 0
is OK, 1 a problem, anything else (or a timeout) unknown; the first line of
stdout is the message. ``config`` loads both config forms, ``monitor`` is the
daemon. See ``docs/plugin-monitor.md``.
"""
