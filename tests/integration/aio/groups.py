"""Helpers for tests that run real programs: scripts in tmp_path, and process groups in /proc."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

__all__ = ["group_gone", "group_killed", "live_members", "script"]


def script(path: Path, body: str) -> str:
    """An executable ``#!/bin/sh`` script at ``path``; its path as a string."""
    path.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are still alive (zombies do not count)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8")
        except OSError:  # exited while we looked
            continue
        fields = stat.rpartition(")")[2].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


async def group_killed(pgid: int, *, within: float = 1.0) -> bool:
    """Wait (briefly: a killed process may still be exiting) until no member is alive."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while live_members(pgid):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def group_gone(pgid: int, *, within: float = 10.0) -> bool:
    """Wait until no process of group ``pgid`` exists at all (orphaned zombies reaped by init)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        await asyncio.sleep(0.05)
    return False
