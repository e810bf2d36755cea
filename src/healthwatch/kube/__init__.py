"""The Kubernetes client layer: the only part of healthwatch that imports a Kubernetes client.

- :class:`KubeClient` (``client``): get, list, create, replace, patch (strategic
  merge, merge, JSON patch; main resource or ``status``), delete and
  :meth:`~KubeClient.watch`, with deadlines, retries and our own errors;
- :class:`KubeConnection` and its sources (``config``, ``kubeconfig``):
  in-cluster service account, kubeconfig file, explicit URL;
- :class:`ResourceKind` and the built-in kinds (``resources``);
- the :class:`KubeError` tree (``errors``).

Names are imported on first use, so catching a :class:`KubeError` or reading a
kubeconfig does not import the client library.
"""

from __future__ import annotations

from healthwatch._lazy import lazy_attributes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from healthwatch.kube.client import KubeClient
    from healthwatch.kube.config import KubeConnection, from_url, in_cluster
    from healthwatch.kube.errors import (
        KubeAlreadyExists,
        KubeConflict,
        KubeError,
        KubeForbidden,
        KubeGone,
        KubeInvalid,
        KubeNotFound,
        KubeUnavailable,
    )
    from healthwatch.kube.kubeconfig import autodetect, from_kubeconfig
    from healthwatch.kube.resources import (
        ALL_NAMESPACES,
        EVENT,
        EVENTS_V1_EVENT,
        KUBERHEALTHY_CHECK,
        KUBERHEALTHY_HEALTHCHECK,
        LEASE,
        NAMESPACE,
        NODE,
        POD,
        KubeObject,
        ObjectList,
        PatchType,
        ResourceKind,
        WatchEvent,
        WatchEventType,
    )
    from healthwatch.kube.retry import RetryPolicy
    from healthwatch.kube.watch import Watch

__all__ = [
    "ALL_NAMESPACES",
    "EVENT",
    "EVENTS_V1_EVENT",
    "KUBERHEALTHY_CHECK",
    "KUBERHEALTHY_HEALTHCHECK",
    "LEASE",
    "NAMESPACE",
    "NODE",
    "POD",
    "KubeAlreadyExists",
    "KubeClient",
    "KubeConflict",
    "KubeConnection",
    "KubeError",
    "KubeForbidden",
    "KubeGone",
    "KubeInvalid",
    "KubeNotFound",
    "KubeObject",
    "KubeUnavailable",
    "ObjectList",
    "PatchType",
    "ResourceKind",
    "RetryPolicy",
    "Watch",
    "WatchEvent",
    "WatchEventType",
    "autodetect",
    "from_kubeconfig",
    "from_url",
    "in_cluster",
]

_LAZY = {
    "KubeClient": "client",
    "KubeConnection": "config",
    "from_url": "config",
    "in_cluster": "config",
    "autodetect": "kubeconfig",
    "from_kubeconfig": "kubeconfig",
    "RetryPolicy": "retry",
    "Watch": "watch",
    **{
        name: "errors"
        for name in (
            "KubeAlreadyExists",
            "KubeConflict",
            "KubeError",
            "KubeForbidden",
            "KubeGone",
            "KubeInvalid",
            "KubeNotFound",
            "KubeUnavailable",
        )
    },
    **{
        name: "resources"
        for name in (
            "ALL_NAMESPACES",
            "EVENT",
            "EVENTS_V1_EVENT",
            "KUBERHEALTHY_CHECK",
            "KUBERHEALTHY_HEALTHCHECK",
            "LEASE",
            "NAMESPACE",
            "NODE",
            "POD",
            "KubeObject",
            "ObjectList",
            "PatchType",
            "ResourceKind",
            "WatchEvent",
            "WatchEventType",
        )
    },
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
