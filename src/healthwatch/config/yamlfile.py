"""Reading YAML config files into typed objects, with errors people can act on.

A file is parsed with the C loader when available, every value's line is
remembered, and the data is converted into frozen ``msgspec`` structs that
forbid unknown fields. Any problem becomes a :class:`ConfigError` naming the
file, the line, the field path and the bad value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

from healthwatch.model.errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "convert", "load_yaml", "read_config_text"]

T = TypeVar("T")
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_NODES = 200_000
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Document:
    """Parsed data plus the line of every field path (``agent.listen`` → 3)."""

    def __init__(self, data: object, lines: dict[str, int]) -> None:
        self.data = data
        self.lines = lines


def _walk(root: yaml.Node, lines: dict[str, int], *, source: str) -> None:
    """Record each path's line; refuse documents whose aliases expand beyond reason."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen = 0
    while stack:
        node, path = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise ConfigError(
                f"{source}: more than {MAX_NODES} values (aliases expanding?); refusing to load"
            )
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{path}.{name}" if path else str(name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))


def read_config_text(path: str | os.PathLike[str]) -> str:
    """A config file's text; ConfigError if it is unreadable, too big or not UTF-8."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{file}: file is {size} bytes; the limit is {MAX_CONFIG_BYTES}")
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{file}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except OSError as error:
        raise ConfigError(f"{file}: cannot read: {error.strerror or error}") from None


def load_yaml(path: str | os.PathLike[str]) -> tuple[object, dict[str, int]]:
    """Parse a YAML file; return the data and the line of each field path."""
    file = Path(path)
    text = read_config_text(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
        lines: dict[str, int] = {}
        if node is not None:
            _walk(node, lines, source=str(file))
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{file}{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{file}: YAML nested too deeply") from None
    return data, lines


def _lookup(data: object, path: str) -> tuple[bool, Any]:
    current: Any = data
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            inner = part[1:-1]
            if not inner.isdigit():  # msgspec's "[...]" for a mapping's value
                return False, None
            index = int(inner)
            if not isinstance(current, list) or index >= len(current):
                return False, None
            current = current[index]
        else:
            if not isinstance(current, dict) or part not in current:
                return False, None
            current = current[part]
    return True, current


def convert(
    data: object,
    kind: type[T],
    *,
    source: str,
    lines: dict[str, int] | None = None,
    prefix: str = "",
) -> T:
    """Convert parsed data into ``kind``; errors name source, line, field and value.

    ``prefix`` is where ``data`` sits in its file (``log_monitors[2]``), for messages
    and line numbers.
    """
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as error:
        message = str(error)
        field = ""
        if " - at `$" in message:
            message, _, where = message.rpartition(" - at `$")
            # msgspec writes a mapping's value as "[...]": name the mapping itself.
            field = where.rstrip("`").lstrip(".").replace("[...]", "")
        lines = lines or {}
        found, value = _lookup(data, field)
        if prefix:
            field = f"{prefix}.{field}" if field else prefix
        line = lines.get(field) or lines.get(field.rpartition(".")[0])
        place = f"{source}:{line}" if line else source
        shown = f" (got {value!r:.120})" if found and not isinstance(value, dict | list) else ""
        label = f" {field}:" if field else ""
        raise ConfigError(f"{place}:{label} {message}{shown}") from None
