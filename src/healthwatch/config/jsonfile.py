"""Decoding node-problem-detector's JSON config files the way its Go decoder accepts them.

Every monitor kind (system log, custom plugin, system stats) reads one JSON object;
each needs the same strictness (no ``NaN``/``Infinity``, which Go refuses), the same
line:column on a syntax error, and the same refusal of deep nesting and non-objects.
"""

from __future__ import annotations

import json
from typing import Any

from healthwatch.model.errors import ConfigError

__all__ = ["decode_json_object"]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json_object(text: str, *, origin: str, what: str) -> dict[str, Any]:
    """The JSON object in ``text``; ConfigError naming ``origin`` (with line:column) if not.

    ``what`` names the expected document in the error (``a system log monitor config``).
    """
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        place = f"{origin}:{error.lineno}:{error.colno}"
        raise ConfigError(f"{place}: invalid JSON: {error.msg}") from None
    except ValueError as error:
        raise ConfigError(f"{origin}: invalid JSON: {error}") from None
    except RecursionError:
        raise ConfigError(f"{origin}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(f"{origin}: {what} must be a JSON object, got {kind}")
    return data
