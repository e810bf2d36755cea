"""healthwatch: honest, fast health for machines, services and clusters.

Importing the package does nothing but define the version: every capability
lives in its own sub-package (``healthwatch.health``, ...) and is imported only
when used, so embedding the health library costs no more than it needs.
"""

from healthwatch._version import __version__

__all__ = ["__version__"]
