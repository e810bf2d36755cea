"""Shared settings of the Kubernetes client tests."""

from __future__ import annotations

from healthwatch.kube import RetryPolicy

FAST = RetryPolicy(
    timeout=2.0, attempts=3, backoff_initial=0.01, backoff_max=0.05, watch_timeout=30
)
"""Retries that keep tests quick: three tries, delays of hundredths of a second."""
