"""A protocol-level fake of the Kubernetes API server, served over real HTTP on loopback.

- :class:`FakeKubeAPI`: the server, its object store, request log and fault queue;
- :class:`Fault`: a scripted misbehaviour (429 with Retry-After, 500, 409, 410,
  delays, connection resets, ERROR events in watches);
- :class:`RecordedRequest`: one request the server received;
- :class:`FakeResource`: a served type, for registering custom resources.

See ``docs/kubernetes-fake.md`` for exactly what it emulates.
"""

from __future__ import annotations

from healthwatch.testing.kubefake.faults import Fault, RecordedRequest
from healthwatch.testing.kubefake.kinds import FakeResource
from healthwatch.testing.kubefake.server import FakeKubeAPI

__all__ = ["FakeKubeAPI", "FakeResource", "Fault", "RecordedRequest"]
