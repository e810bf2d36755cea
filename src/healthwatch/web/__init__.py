"""The agent's web listener: JSON API, OpenAPI description and (growing) dashboard."""
