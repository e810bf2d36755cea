"""The generated files, where they live, and how to tell whether the committed ones are current.

Both files are produced in memory first (:func:`generated_files`), so writing
them, comparing them with the repository's copies and printing one to standard
output all see exactly the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from healthwatch.reference.markdown import configuration_markdown
from healthwatch.reference.schema import schema_text

__all__ = ["DEFAULT_DIRECTORY", "OUTPUTS", "generated_files", "stale_files", "write_files"]

DEFAULT_DIRECTORY: Final = Path("docs") / "reference"
"""Where the files go, relative to the repository root."""

OUTPUTS: Final[Mapping[str, Callable[[], str]]] = {
    "configuration.md": configuration_markdown,
    "config.schema.json": schema_text,
}
"""File name → the function that makes its text."""


def generated_files() -> dict[str, str]:
    """File name → text, freshly generated."""
    return {name: make() for name, make in OUTPUTS.items()}


def stale_files(directory: Path) -> list[str]:
    """Names of the files in ``directory`` that are missing or differ from what is generated."""
    stale = []
    for name, text in generated_files().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_files(directory: Path) -> list[Path]:
    """Write every file into ``directory`` (created if needed); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_files().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
