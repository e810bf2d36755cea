"""Turning the Kubernetes client's and its HTTP library's exceptions into :class:`KubeError`.

The client library raises its own ``ApiError`` (carrying the server's Status
object), HTTP status errors when the body is not a Status, transport errors
and timeouts from its HTTP library, and assorted ``ValueError``/``KeyError``
on malformed answers. :func:`translate` maps each to one of our errors, keeping
the original as ``__cause__``, so none of those types escapes this package.
"""

from __future__ import annotations

import httpx2
import msgspec
from lightkube import ApiError
from lightkube import ConfigError as LightkubeConfigError

from healthwatch.kube.errors import KubeError, KubeInvalid, KubeUnavailable, error_for_status
from healthwatch.kube.retry import parse_retry_after

__all__ = ["translate"]

_MAX_MESSAGE = 500


def _retry_after(response: httpx2.Response | None) -> float | None:
    if response is None:
        return None
    return parse_retry_after(response.headers.get("Retry-After"))


def _from_api_error(error: ApiError, operation: str) -> KubeError:
    status = error.status
    response: httpx2.Response | None = getattr(error, "response", None)
    code = int(status.code or (response.status_code if response is not None else 0) or 0)
    retry_after = _retry_after(response)
    details = getattr(status, "details", None)
    if retry_after is None and details is not None and details.retryAfterSeconds:
        retry_after = float(details.retryAfterSeconds)
    return error_for_status(
        code,
        reason=str(status.reason or ""),
        message=str(status.message or "")[:_MAX_MESSAGE],
        operation=operation,
        retry_after=retry_after,
    )


def _from_status_error(error: httpx2.HTTPStatusError, operation: str) -> KubeError:
    response = error.response
    try:
        text = response.text.strip()
    except (httpx2.HTTPError, UnicodeDecodeError, RuntimeError):
        text = ""
    message = text[:_MAX_MESSAGE] or response.reason_phrase or f"HTTP {response.status_code}"
    return error_for_status(
        response.status_code,
        reason=response.reason_phrase.replace(" ", ""),
        message=message,
        operation=operation,
        retry_after=_retry_after(response),
    )


def translate(error: BaseException, operation: str) -> KubeError:
    """The :class:`KubeError` for an exception raised by the client library during ``operation``.

    The caller raises it ``from error``. Our own errors pass through unchanged.
    """
    if isinstance(error, KubeError):
        return error
    if isinstance(error, ApiError) and getattr(error, "status", None) is not None:
        return _from_api_error(error, operation)
    if isinstance(error, httpx2.HTTPStatusError):
        return _from_status_error(error, operation)
    if isinstance(error, httpx2.TimeoutException):
        return KubeUnavailable(
            f"timed out ({type(error).__name__})", reason="Timeout", operation=operation
        )
    if isinstance(error, httpx2.TransportError):
        detail = str(error) or type(error).__name__
        return KubeUnavailable(
            f"connection failed: {detail[:_MAX_MESSAGE]}",
            reason="ConnectionError",
            operation=operation,
        )
    if isinstance(error, msgspec.DecodeError | msgspec.ValidationError):
        return KubeUnavailable(
            f"the server sent an answer that is not valid: {str(error)[:_MAX_MESSAGE]}",
            reason="InvalidResponse",
            operation=operation,
        )
    if isinstance(error, LightkubeConfigError):
        return KubeError(str(error)[:_MAX_MESSAGE], reason="ClientConfig", operation=operation)
    if isinstance(error, ValueError):
        return KubeInvalid(str(error)[:_MAX_MESSAGE], reason="BadRequest", operation=operation)
    return KubeError(
        f"{type(error).__name__}: {str(error)[:_MAX_MESSAGE]}",
        reason="ClientError",
        operation=operation,
    )
