"""Node problem detection: problem daemons that turn logs and probes into events and conditions.

Daemons (``logmonitor`` and those to come) report :class:`healthwatch.model.Status`
values to a sink; the detector fans them out to exporters. See ``base`` for the
contracts and ``docs/problems.md`` for the user's view.
"""
