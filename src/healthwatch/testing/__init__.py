"""Fakes for testing code that uses healthwatch, shipped so nobody has to patch our internals.

- ``ScriptedDaemon``: a problem daemon that reports the statuses you give it;
- ``RecordingExporter``: an exporter that records what it is given, can be slow or fail;
- ``FakeGpuAdapter``: scripted GPUs for the GPU daemon (samples, Xids, lost GPUs, hangs);
- ``ManualClock``: a clock that moves only when told to;
- ``FakeKubeAPI``: a Kubernetes API server on loopback, with fault injection
  (``healthwatch.testing.kubefake``; see ``docs/kubernetes-fake.md``).

Each satisfies the real protocol, so the code under test runs as it does in the agent.
"""

from __future__ import annotations

from healthwatch.aio.clock import ManualClock
from healthwatch.testing.daemons import RecordingExporter, ScriptedDaemon
from healthwatch.testing.gpu import CLEAN_SAMPLE, FakeGpuAdapter
from healthwatch.testing.kubefake import FakeKubeAPI

__all__ = [
    "CLEAN_SAMPLE",
    "FakeGpuAdapter",
    "FakeKubeAPI",
    "ManualClock",
    "RecordingExporter",
    "ScriptedDaemon",
]
