"""Reading procfs, sysfs and host files under an injected root, with a size cap.

procfs files report a size of 0, so a read cannot be sized up front: each read
is capped (a hostile or broken tree must not make the agent swallow gigabytes)
and every failure becomes a :class:`ReadError` whose message names the path and
the reason, which the monitor shows in its health.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["MAX_FILE_BYTES", "HostFiles", "ReadError"]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest file read (``/proc/net/dev`` with thousands of interfaces stays far below)."""
_CHUNK = 64 * 1024
"""Bytes asked per read: a sysctl file allocates what is asked, so never ask for megabytes."""


class ReadError(Exception):
    """A file could not be read; the message names the path and why."""


class HostFiles:
    """Paths and reads under the host's root and its proc root.

    ``proc_root`` defaults to ``<host_root>/proc``; node-problem-detector's
    ``procPath`` may name another one.
    """

    def __init__(
        self,
        *,
        host_root: str = "/",
        proc_root: str | None = None,
        max_bytes: int = MAX_FILE_BYTES,
        statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
    ) -> None:
        self.host_root = host_root
        self._statvfs = statvfs
        """The system call, injectable: a test cannot make a real filesystem 93 % full."""
        self.proc_root = proc_root or os.path.join(host_root, "proc")
        self.max_bytes = max_bytes

    def proc_path(self, relative: str) -> str:
        """``relative`` (``stat``, ``sys/kernel/pid_max``) under the proc root."""
        return os.path.join(self.proc_root, relative)

    def host_path(self, path: str) -> str:
        """An absolute host path (``/etc/os-release``) under the host root."""
        return os.path.join(self.host_root, path.lstrip("/"))

    def read_proc(self, relative: str) -> str:
        """Text of a file under the proc root."""
        return self.read(self.proc_path(relative))

    def read_host(self, path: str) -> str:
        """Text of a host file under the host root."""
        return self.read(self.host_path(path))

    def read(self, path: str) -> str:
        """Text of ``path`` (undecodable bytes replaced); ReadError when missing or too big."""
        chunks: list[bytes] = []
        size = 0
        try:
            with open(path, "rb", buffering=0) as file:
                while chunk := file.read(_CHUNK):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ReadError(f"{path} is larger than {self.max_bytes} bytes; not read")
        except OSError as error:
            raise ReadError(f"cannot read {path}: {error.strerror or error}") from None
        return b"".join(chunks).decode("utf-8", errors="replace")

    def check_proc_root(self) -> None:
        """ReadError unless the proc root is a directory."""
        if not os.path.isdir(self.proc_root):
            raise ReadError(f"proc root {self.proc_root} is not a directory")

    def exists(self, relative: str) -> bool:
        """Whether a path under the proc root exists."""
        return os.path.exists(self.proc_path(relative))

    def list_host_dir(self, path: str) -> list[str]:
        """Names in a host directory (``/sys/block``); ReadError when it cannot be listed."""
        where = self.host_path(path)
        try:
            return sorted(os.listdir(where))
        except OSError as error:
            raise ReadError(f"cannot list {where}: {error.strerror or error}") from None

    def statvfs(self, mountpoint: str) -> os.statvfs_result:
        """Filesystem figures of a host mount point; ReadError when it cannot be queried."""
        where = self.host_path(mountpoint)
        try:
            return self._statvfs(where)
        except OSError as error:
            raise ReadError(f"cannot statvfs {where}: {error.strerror or error}") from None
