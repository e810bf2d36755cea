"""Templates and static files of the dashboard, shipped inside the package.

The pages are Jinja templates with autoescaping on for everything, so any text
that reaches a page (a log line, a check's error, a component's message) is
shown as text and never runs. Undefined names are errors, not blanks. The
stylesheet, the script and the icon are read once when the application is
built and served from memory under fixed names, each with an ETag; no other
file can be asked for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import jinja2

from healthwatch._version import __version__
from healthwatch.web.dashboard.charts import format_seconds
from healthwatch.web.dashboard.checks import check_href
from healthwatch.web.dashboard.context import ago, every, utc
from healthwatch.web.dashboard.problems import component_href, condition_state, problem_href

__all__ = ["ASSET_TYPES", "Asset", "Renderer"]

ASSET_TYPES: Final = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}
"""Every static file there is, with its content type."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file, in memory."""

    body: bytes
    content_type: str
    etag: str


def _assets() -> dict[str, Asset]:
    folder = resources.files("healthwatch.web").joinpath("static")
    found: dict[str, Asset] = {}
    for name, content_type in ASSET_TYPES.items():
        body = folder.joinpath(name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:16]
        found[name] = Asset(body=body, content_type=content_type, etag=f'"{digest}"')
    return found


class Renderer:
    """The template environment and the static files of one web application."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("healthwatch.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.globals.update(
            utc=utc,
            ago=ago,
            every=every,
            seconds=format_seconds,
            check_href=check_href,
            problem_href=problem_href,
            component_href=component_href,
            condition_state=condition_state,
            version=__version__,
        )
        self.assets = _assets()
        self.env.globals["asset_tag"] = {
            name: asset.etag.strip('"') for name, asset in self.assets.items()
        }

    def page(self, template: str, **values: Any) -> str:
        """Render one page."""
        return self.env.get_template(template).render(**values)
