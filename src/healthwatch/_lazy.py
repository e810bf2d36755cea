"""Lazy attributes for packages: names are imported on first use (PEP 562).

Keeps ``import healthwatch.health`` and ``import healthwatch.model`` nearly free while
their ``__all__`` still lists everything they offer.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, where: Mapping[str, str], public: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    ``where`` maps a name to the module holding it: a sub-module of ``package``
    (``"registry"``) or a full dotted path (``"healthwatch.model.health"``).
    """

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's name
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if "." in module else f"{package}.{module}"
        value = getattr(importlib.import_module(path), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807 - the module hook's name
        return sorted(public)

    return __getattr__, __dir__
