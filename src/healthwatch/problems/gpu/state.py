"""What the GPU daemon keeps across its own restarts: known GPUs and sticky Xids, for one boot.

A fatal Xid is reported once by the driver; an agent restart (an upgrade, a
crash) must not forget it, and a GPU that fell off the bus before the restart
must still be missed. So the known devices and the sticky Xids are saved in the
state directory with the boot id, and restored only when the boot id is the
same: a reboot is the repair most of these problems ask for. An unreadable or
foreign file is ignored with a warning, never trusted in part.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from healthwatch.problems.gpu.adapter import GpuDevice, normalize_bus_id
from healthwatch.problems.gpu.book import GpuBook, GpuTrack
from healthwatch.problems.gpu.xids import MAX_XID

__all__ = ["SavedGpu", "StateKeeper", "load_state", "read_boot_id", "save_state"]

_log = logging.getLogger("healthwatch.problems.gpu")
_VERSION = 1
_MAX_BYTES = 1024 * 1024
_MAX_GPUS = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedGpu:
    """One GPU as saved."""

    device: GpuDevice | None
    xids: dict[int, float]


def read_boot_id(host_root: str) -> str | None:
    """The host's boot id (``/proc/sys/kernel/random/boot_id`` under ``host_root``)."""
    path = Path(host_root, "proc/sys/kernel/random/boot_id")
    try:
        text = path.read_text(encoding="ascii", errors="replace")[:100].strip()
    except OSError:
        return None
    return text or None


def save_state(path: Path, *, boot_id: str, gpus: dict[str, GpuTrack]) -> None:
    """Write the known GPUs and their sticky Xids atomically; OSError if it cannot."""
    data = {
        "version": _VERSION,
        "boot_id": boot_id,
        "gpus": {
            bus_id: {
                "device": None
                if track.device is None
                else {
                    "index": track.device.index,
                    "uuid": track.device.uuid,
                    "name": track.device.name,
                },
                "xids": {str(code): at for code, at in sorted(track.xids.items())},
            }
            for bus_id, track in sorted(gpus.items())[:_MAX_GPUS]
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(scratch, path)


def load_state(path: Path, *, boot_id: str) -> dict[str, SavedGpu]:
    """The GPUs saved in this boot; empty when there is no file, another boot, or a bad file."""
    try:
        with path.open("rb") as file:
            raw = file.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as error:
        _log.warning("%s: cannot read saved GPU state: %s", path, error)
        return {}
    try:
        if len(raw) > _MAX_BYTES:
            raise ValueError(f"larger than {_MAX_BYTES} bytes")
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError("not a version 1 GPU state file")
        if data.get("boot_id") != boot_id:
            _log.info("%s: saved in another boot; starting afresh", path)
            return {}
        return _decode(data.get("gpus"))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        _log.warning("%s: ignoring saved GPU state: %s", path, error)
        return {}


def _decode(gpus: object) -> dict[str, SavedGpu]:
    if not isinstance(gpus, dict) or len(gpus) > _MAX_GPUS:
        raise ValueError("'gpus' is not a mapping of at most 256 GPUs")
    saved: dict[str, SavedGpu] = {}
    for key, entry in gpus.items():
        bus_id = normalize_bus_id(str(key))
        raw_device = entry["device"]
        device = None
        if raw_device is not None:
            index, uuid, name = raw_device["index"], raw_device["uuid"], raw_device["name"]
            if not isinstance(index, int) or not isinstance(uuid, str) or not isinstance(name, str):
                raise ValueError(f"bad device entry for {bus_id}")
            device = GpuDevice(index=index, uuid=uuid[:100], bus_id=bus_id, name=name[:100])
        xids: dict[int, float] = {}
        for code, at in dict(entry["xids"]).items():
            number = int(code)
            if not 1 <= number <= MAX_XID or not isinstance(at, int | float):
                raise ValueError(f"bad Xid entry {code!r} for {bus_id}")
            xids[number] = float(at)
        saved[bus_id] = SavedGpu(device=device, xids=xids)
    return saved


class StateKeeper:
    """Restores a book from its file once, and saves it whenever what is kept changed."""

    def __init__(self, path: Path | None, *, host_root: str) -> None:
        self.path = path
        self._host_root = host_root
        self._boot_id: str | None = None
        self._saved: object = None

    def restore(self, book: GpuBook) -> None:
        """Put this boot's saved GPUs and sticky Xids into ``book``."""
        self._boot_id = read_boot_id(self._host_root)
        if self.path is None or self._boot_id is None:
            return
        for bus_id, saved in load_state(self.path, boot_id=self._boot_id).items():
            track = book.track(bus_id)
            track.device, track.xids = saved.device, dict(saved.xids)

    def save(self, book: GpuBook) -> None:
        """Write the book's GPUs and sticky Xids if they changed since the last write."""
        if self.path is None or self._boot_id is None:
            return
        kept = [(b, t.device, sorted(t.xids)) for b, t in sorted(book.gpus.items())]
        if kept == self._saved:
            return
        try:
            save_state(self.path, boot_id=self._boot_id, gpus=book.gpus)
            self._saved = kept
        except OSError as error:
            _log.warning("%s: cannot save GPU state: %s", self.path, error)
