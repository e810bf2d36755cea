"""The dashboard: server-rendered pages of the node, its checks, problems and components.

See ``docs/dashboard.md``. :func:`add_dashboard_routes` serves it on the web
application for the parts named in a :class:`DashboardSources`. Names load on
first use, so the OpenAPI description can be read without the template engine.
"""

from __future__ import annotations

from healthwatch._lazy import lazy_attributes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from healthwatch.web.dashboard.context import DashboardSources
    from healthwatch.web.dashboard.routes import (
        SECURITY_HEADERS,
        DashboardRoutes,
        add_dashboard_routes,
    )

__all__ = ["SECURITY_HEADERS", "DashboardRoutes", "DashboardSources", "add_dashboard_routes"]

_LAZY = {
    "DashboardSources": "context",
    "SECURITY_HEADERS": "routes",
    "DashboardRoutes": "routes",
    "add_dashboard_routes": "routes",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
