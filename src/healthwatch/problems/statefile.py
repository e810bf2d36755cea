"""Saved conditions on disk, shared by the daemons that keep them across restarts.

A daemon that holds permanent conditions (the log and plugin monitors) writes them
to the state directory whenever they change, so a restart does not flap them back
to their defaults. The file is written atomically (a crash leaves the old file or
the new, never half) and read defensively: a missing, oversized or unreadable file
means "start from the defaults", logged, never a failure to start.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

__all__ = ["MAX_STATE_BYTES", "load_state", "save_state"]

MAX_STATE_BYTES: Final = 1024 * 1024
"""Largest saved state read back; anything bigger is ignored as damaged."""

_log = logging.getLogger("healthwatch.problems")


def load_state(path: Path) -> dict[str, object] | None:
    """A saved state, or None if there is none or it cannot be read (which is logged)."""
    try:
        if path.stat().st_size > MAX_STATE_BYTES:
            _log.warning("%s: saved conditions too large; starting from the defaults", path)
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        _log.warning(
            "%s: cannot read saved conditions (%s); starting from the defaults", path, error
        )
        return None
    return data if isinstance(data, dict) else None


def save_state(path: Path, data: Mapping[str, object]) -> None:
    """Write the state atomically (a crash leaves the old file or the new, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
