"""Exporters: where statuses and metrics leave the agent (Prometheus, and more to come)."""
