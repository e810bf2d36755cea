"""The errors the Kubernetes client layer raises, so no client-library exception leaks out.

::

    HealthwatchError
    └── KubeError                 any failed call to the API server (code, reason, message)
        ├── KubeUnavailable       timeouts, 429/5xx and connection errors, after the retries
        ├── KubeConflict          409: a stale resourceVersion on update
        │   └── KubeAlreadyExists 409: create of a name that exists
        ├── KubeNotFound          404
        ├── KubeGone              410: a watch or list resourceVersion is too old
        ├── KubeForbidden         401 or 403: credentials refused or RBAC denied
        └── KubeInvalid           400 or 422: a malformed request or an invalid object

Configuration problems (a bad kubeconfig, missing service-account files) are
:class:`healthwatch.model.errors.ConfigError`, not :class:`KubeError`.

This module imports nothing from the Kubernetes client, so code that only
catches these errors does not pay for importing it.
"""

from __future__ import annotations

from healthwatch.model.errors import HealthwatchError

__all__ = [
    "KubeAlreadyExists",
    "KubeConflict",
    "KubeError",
    "KubeForbidden",
    "KubeGone",
    "KubeInvalid",
    "KubeNotFound",
    "KubeUnavailable",
    "error_for_status",
]


class KubeError(HealthwatchError):
    """A call to the Kubernetes API failed.

    ``code`` is the HTTP status (0 when no response arrived), ``reason`` and
    ``message`` come from the API server's Status object when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int = 0,
        reason: str = "",
        operation: str = "",
        retry_after: float | None = None,
    ) -> None:
        shown = f"{operation}: {message}" if operation else message
        super().__init__(shown)
        self.code = code
        """HTTP status code, or 0 when the server never answered."""
        self.reason = reason
        """Machine-readable reason of the Status object (``Conflict``, ``NotFound``...)."""
        self.message = message
        """Human-readable message of the Status object (or of the transport error)."""
        self.operation = operation
        """What was being done (``patch nodes/n1/status``), for logs."""
        self.retry_after = retry_after
        """Seconds the server asked us to wait before trying again (``Retry-After``), if any."""


class KubeUnavailable(KubeError):  # noqa: N818 - the names read as HTTP statuses
    """The API server did not answer usefully in time (timeouts, 429, 5xx, connection errors)."""


class KubeConflict(KubeError):  # noqa: N818 - the names read as HTTP statuses
    """409: the object changed since it was read (stale ``resourceVersion``)."""


class KubeAlreadyExists(KubeConflict):
    """409 with reason ``AlreadyExists``: create of a name that is taken."""


class KubeNotFound(KubeError):  # noqa: N818 - the names read as HTTP statuses
    """404: the object (or its namespace, or the resource type) does not exist."""


class KubeGone(KubeError):  # noqa: N818 - the names read as HTTP statuses
    """410: the requested ``resourceVersion`` is older than the server keeps."""


class KubeForbidden(KubeError):  # noqa: N818 - the names read as HTTP statuses
    """401 or 403: the credentials were refused or RBAC does not allow the call."""


class KubeInvalid(KubeError):  # noqa: N818 - the names read as HTTP statuses
    """400 or 422: the request or the object was refused as malformed or invalid."""


_BY_CODE: dict[int, type[KubeError]] = {
    400: KubeInvalid,
    401: KubeForbidden,
    403: KubeForbidden,
    404: KubeNotFound,
    409: KubeConflict,
    410: KubeGone,
    422: KubeInvalid,
    429: KubeUnavailable,
}


def error_for_status(
    code: int,
    *,
    reason: str,
    message: str,
    operation: str = "",
    retry_after: float | None = None,
) -> KubeError:
    """The :class:`KubeError` for an HTTP status code and a Status object's reason and message."""
    if code == 409 and reason == "AlreadyExists":
        kind: type[KubeError] = KubeAlreadyExists
    elif code >= 500:
        kind = KubeUnavailable
    else:
        kind = _BY_CODE.get(code, KubeError)
    return kind(
        message or reason or f"HTTP {code}",
        code=code,
        reason=reason,
        operation=operation,
        retry_after=retry_after,
    )
