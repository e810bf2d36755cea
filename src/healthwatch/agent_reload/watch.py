"""Noticing that config files changed on disk, by polling, without inotify.

A config management tool, an editor or a Kubernetes ConfigMap update rewrites
the file; the agent notices within its poll interval and reloads, as it would
on SIGHUP. A file is known by its inode, modification time and size, and only
when those move is its content hashed: a file rewritten with the same bytes (a
``touch``, a ConfigMap resync) is no change. A file that cannot be read right
now (being replaced, briefly missing) is no change either; a reload only
follows a file that can be read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from healthwatch.config.yamlfile import MAX_CONFIG_BYTES

__all__ = ["FileWatch", "Fingerprint"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a file looked like when it was last seen."""

    inode: int
    mtime_ns: int
    size: int
    digest: str
    """SHA-256 of the content (empty for a file over the config size limit)."""


def fingerprint(path: Path, known: Fingerprint | None = None) -> Fingerprint | None:
    """The file's fingerprint; ``known`` is reused when inode, time and size still match.

    None when the file cannot be read now.
    """
    try:
        stat = path.stat()
        if known is not None and (known.inode, known.mtime_ns, known.size) == (
            stat.st_ino,
            stat.st_mtime_ns,
            stat.st_size,
        ):
            return known
        digest = hashlib.sha256()
        if stat.st_size <= MAX_CONFIG_BYTES:  # a bigger file is rejected by the loader anyway
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
    except OSError:
        return None
    return Fingerprint(stat.st_ino, stat.st_mtime_ns, stat.st_size, digest.hexdigest())


class FileWatch:
    """Tells whether any of a set of files changed since :meth:`mark`.

    Blocking (it reads files): call it from a worker thread.
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self._seen: dict[Path, Fingerprint | None] = {
            path: fingerprint(path) for path in dict.fromkeys(Path(p) for p in paths)
        }

    @property
    def paths(self) -> tuple[Path, ...]:
        """The files watched."""
        return tuple(self._seen)

    def mark(self) -> None:
        """Take every file as it is now as the known state."""
        self._seen = {p: fingerprint(p, known) for p, known in self._seen.items()}

    def changed(self) -> list[Path]:
        """Files whose content differs from the known state (and that can be read now).

        Their new state becomes the known one, so each change is reported once.
        """
        found: list[Path] = []
        for path, known in self._seen.items():
            now = fingerprint(path, known)
            if now is None:
                continue  # missing or unreadable for now: judged when it can be read
            if known is None or now.digest != known.digest:
                found.append(path)
            self._seen[path] = now
        return found
