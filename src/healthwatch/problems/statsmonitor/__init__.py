"""The system stats monitor: CPU, memory, disk, network and host figures as metrics and conditions.

Every figure is read straight from procfs and sysfs under an injected root
(``host_root``, or node-problem-detector's ``procPath``), so one agent in a
container watches the host it mounts. psutil is not used: its procfs root is a
process-wide setting that cannot be given per daemon, and it hides the files'
own failures that the monitor reports as its health.

Modules: ``files`` reads the files, ``procparse`` and ``devparse`` parse them,
``collectors`` turns them into a :class:`~.collectors.Snapshot`, ``npdmetrics`` and
``ownmetrics`` render metric families, ``thresholds`` keeps the pressure
conditions, ``config`` and ``npd`` load the settings, ``monitor`` is the daemon.
"""
